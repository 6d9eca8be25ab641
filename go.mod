module github.com/ecs-reaper/ecs-reaper

go 1.26

require (
	github.com/aliyun/alibaba-cloud-sdk-go v1.63.107 // indirect
	github.com/aliyun/fc-runtime-go-sdk v0.3.1 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
)

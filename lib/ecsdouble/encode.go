package ecsdouble

import (
	"encoding/json"
	"strconv"
)

// appendPage writes a DescribeInstances answer by hand. It produces exactly
// what encoding/json makes of describeJSON (a test holds it to that), at a
// fraction of the CPU: benchmarks run the double beside the sweep on the
// same cores, and its encoding should not be what they measure.
func appendPage(b []byte, head describeJSON, page []*rec) []byte {
	b = append(b, `{"RequestId":`...)
	b = appendString(b, head.RequestID)
	b = append(b, `,"NextToken":`...)
	b = appendString(b, head.NextToken)
	b = append(b, `,"TotalCount":`...)
	b = strconv.AppendInt(b, int64(head.TotalCount), 10)
	b = append(b, `,"PageSize":`...)
	b = strconv.AppendInt(b, int64(head.PageSize), 10)
	b = append(b, `,"PageNumber":`...)
	b = strconv.AppendInt(b, int64(head.PageNumber), 10)
	b = append(b, `,"Instances":{"Instance":[`...)
	for i, r := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.json...)
	}
	return append(b, "]}}"...)
}

func appendInstance(b []byte, j instJSON) []byte {
	field := func(b []byte, name, v string) []byte {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		return appendString(b, v)
	}
	b = append(b, `{"InstanceId":`...)
	b = appendString(b, j.InstanceID)
	b = field(b, "InstanceName", j.InstanceName)
	b = field(b, "HostName", j.HostName)
	b = field(b, "RegionId", j.RegionID)
	b = field(b, "ZoneId", j.ZoneID)
	b = field(b, "InstanceType", j.InstanceType)
	b = append(b, `,"Cpu":`...)
	b = strconv.AppendInt(b, int64(j.CPU), 10)
	b = append(b, `,"Memory":`...)
	b = strconv.AppendInt(b, int64(j.Memory), 10)
	b = field(b, "OSType", j.OSType)
	b = field(b, "Status", j.Status)
	b = field(b, "InstanceChargeType", j.InstanceChargeType)
	b = field(b, "InternetChargeType", j.InternetChargeType)
	b = field(b, "ExpiredTime", j.ExpiredTime)
	b = field(b, "CreationTime", j.CreationTime)
	b = field(b, "StartTime", j.StartTime)
	b = field(b, "AutoReleaseTime", j.AutoReleaseTime)
	b = append(b, `,"DeletionProtection":`...)
	b = strconv.AppendBool(b, j.DeletionProtection)
	b = field(b, "SpotStrategy", j.SpotStrategy)
	b = append(b, `,"OperationLocks":{"LockReason":`...)
	if j.OperationLocks.LockReason == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range j.OperationLocks.LockReason {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"LockReason":`...)
			b = appendString(b, l.LockReason)
			b = field(b, "LockMsg", l.LockMsg)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	if j.Tags != nil {
		b = append(b, `,"Tags":{"Tag":`...)
		if j.Tags.Tag == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, t := range j.Tags.Tag {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"TagKey":`...)
				b = appendString(b, t.TagKey)
				b = field(b, "TagValue", t.TagValue)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendString quotes s as encoding/json does: plain ASCII directly, and
// anything that needs escaping through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Package ecsdouble is an in-process fake of the ECS RPC API (version
// 2014-05-26) listening on 127.0.0.1 only. It verifies signature v1 like the
// real service, serves DescribeRegions, DescribeInstances, ListTagResources
// and DeleteInstances from a JSON fleet, and injects faults on demand, so
// tests, the demo and benchmarks drive the real SDK over real HTTP.
//
// Point the SDK at it with client.Domain = srv.Host() (scheme HTTP, the SDK
// default) and a credential registered with WithCredential/AddCredential.
//
// Error codes the API documentation does not pin down, as chosen here:
//
//	405 UnsupportedHTTPMethod            method other than POST/GET
//	400 MissingParameter                 a common param, RegionId, InstanceId.N, ResourceType, or every ListTagResources selector missing
//	400 InvalidVersion                   Version != 2014-05-26
//	400 InvalidParameter.Format          Format != JSON (the double serves JSON only)
//	400 InvalidSignatureMethod/Version   not HMAC-SHA1 / 1.0
//	400 InvalidTimeStamp.Format/.Expired bad Timestamp / more than 15 min off real time
//	400 SignatureNonceUsed               SignatureNonce replayed
//	404 InvalidAccessKeyId.NotFound      unknown AccessKeyId
//	400 InvalidSecurityToken.Malformed   STS AccessKeyId without SecurityToken
//	400 InvalidSecurityToken.Mismatch    wrong SecurityToken, or one sent with a permanent AK
//	400 InvalidSecurityToken.Expired     STS credentials past their Expiration (real time)
//	400 SignatureDoesNotMatch            bad signature (message carries the server string to sign)
//	400 InvalidAction.NotFound           unknown Action
//	404 InvalidRegionId.NotFound         RegionId not in the fleet, WithRegions or later Mutate/Add
//	400 InvalidNextToken.Malformed       NextToken undecodable or from a different query
//	400 InvalidInstanceIds.Malformed     InstanceIds not a JSON string array, or more than 100
//	400 InvalidTag.Mismatch              DescribeInstances Tag.N.Value without Tag.N.Key
//	400 InvalidParameter.TagValue        ListTagResources Tag.N.Value without Tag.N.Key
//	400 InvalidTagCount                  Tag.N with N > 20
//	400 InvalidParameter.MaxResults      MaxResults not an integer
//	400 InvalidParameter.PageSize        DescribeInstances PageSize not an integer 1..100
//	400 InvalidParameter.PageNumber      DescribeInstances PageNumber not an integer >= 1
//	400 InvalidResourceType.NotFound     ListTagResources ResourceType other than instance
//	400 InvalidParameter.ResourceId      ResourceId.N with N > 50
//	400 MissingParameter                 DeleteInstances without InstanceId.N
//	400 InvalidParameter                 bad ClientToken (> 64 chars or non-ASCII), non-boolean flag, malformed N
//	400 IdempotentParameterMismatch      ClientToken reused with other IDs/flags/region
//
// DescribeInstances pages by NextToken when MaxResults or NextToken is
// sent (PageNumber and PageSize are then ignored and TotalCount means
// nothing, as the API reference says), otherwise by PageNumber and
// PageSize (default 10) with an exact TotalCount; either way in ID order,
// as the fleet is at each call, so a change between the pages of a
// page-number listing shifts the later pages. It filters by Tag.N (at most
// TagFilterCap results), InstanceIds, Status, InstanceChargeType,
// LockReason and ZoneId (an instance without a zone is in REGION-a).
//
// WithRateLimit (or SetRateLimit) answers at most N calls of each action in
// each region in any second, as ECS's per-API quota does, and HTTP 400
// Throttling to the rest (counted by Throttled; they do not use the quota).
//
// DeleteInstances is all or nothing. Checks, first failure wins:
// CrossRegionNotSupport (any ID existing in another region), then per ID in
// request order: InvalidInstanceIds.NotFound, the instance's FailWith code,
// InvalidOperation.DeletionProtection, InstanceLockedForSecurity,
// ChargeTypeViolation (PrePaid not expired, or expired without
// TerminateSubscription=true), IncorrectInstanceStatus.Initializing,
// IncorrectInstanceStatus (Running without Force, or any status other than
// Stopped/Running). A passing DryRun answers 400 DRYRUN.SUCCESS.
//
// TagResources tags instances, disks, snapshots and images (ResourceType
// instance, disk, snapshot, image), all or nothing: a resource that would
// carry more than 20 tags answers 400 OperationDenied.QuotaExceed, and
// RefuseTags makes the calls naming one resource answer any code (403
// QuotaExceed.Tags, InvalidResourceId.NotSupported). Disk, Snapshot and
// Image Omit leave fields out of the Describe answers, as a partial answer
// would. DescribeImages and DeleteImage are described on Image.
//
// The VPC API (Version 2016-04-28) serves DescribeEipAddresses,
// ReleaseEipAddress, TagResources and UnTagResources (ResourceType EIP;
// UnTagResources removes TagKey.N, all or nothing, and RefuseTags refuses
// it as it refuses TagResources).
//
// Several accounts: StartAccounts serves one fleet per account behind one
// endpoint, each account a Server of its own (Accounts.Account), and
// routes a call by its AccessKey to the account the shared Registry says
// it belongs to; WithAccount makes a single Server one account's. The STS
// double (lib/orgdouble) issues credentials into the same Registry, so
// an account's credentials reach its own fleet and no other.
//
// ListTagResources returns one entry per (instance, tag) for every tag of
// each matching instance, ordered by instance ID then tag key, 50 entries a
// page; an instance's entries may straddle pages, so clients must dedupe IDs.
package ecsdouble

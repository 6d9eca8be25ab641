package ecsapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Class says what the sweep should do about a failed call. Every decision
// the product makes about an API error goes through Classify, by error code.
type Class int

// Error classes.
const (
	// ClassFatal: a request the API refuses for a reason retrying cannot fix
	// (bad parameters, unknown codes). The call's instances are not released.
	ClassFatal Class = iota
	// ClassRetryable: 5xx, transport failures, timeouts, malformed answers.
	ClassRetryable
	// ClassThrottled: retryable, and a signal to slow down.
	ClassThrottled
	// ClassInstance: one or more of the call's resources (instances, disks,
	// snapshots, EIPs) cannot be written as asked; the API reports one code
	// for the whole request, so the batch is isolated to find which.
	ClassInstance
	// ClassNotFound: an instance of the call no longer exists.
	ClassNotFound
	// ClassCredential: the credentials or permissions are wrong; stop the
	// region, since every further call would fail the same way.
	ClassCredential
	// ClassDryRunPassed: a dry run that would have succeeded.
	ClassDryRunPassed
	// ClassCanceled: the caller's context ended (the invocation deadline).
	ClassCanceled
	// ClassRegion: the region itself is unknown or not open to the
	// account; stop the region (it fails closed), but the credentials are
	// fine and every other region goes on.
	ClassRegion
	// ClassAlreadyExists: what the call would create exists already: an
	// OSS object written with forbid-overwrite, or a CloudFlow execution
	// of the same name that has finished. Nothing new was started.
	ClassAlreadyExists
)

var classNames = map[Class]string{
	ClassFatal:         "fatal",
	ClassRetryable:     "retryable",
	ClassThrottled:     "throttled",
	ClassInstance:      "instance",
	ClassNotFound:      "not-found",
	ClassCredential:    "credential",
	ClassDryRunPassed:  "dry-run-passed",
	ClassCanceled:      "canceled",
	ClassRegion:        "region",
	ClassAlreadyExists: "already-exists",
}

// String names the class for logs and reports.
func (c Class) String() string { return classNames[c] }

// Codes this product produces itself for failures without an API code.
const (
	CodeTransport   = "Transport.Error"
	CodeTimeout     = "Transport.Timeout"
	CodeBadResponse = "Response.Malformed"
	CodeCanceled    = "Context.Canceled"
	CodeDryRunOK    = "DRYRUN.SUCCESS"
)

// instanceCodes are the DeleteInstances codes caused by a member of the
// batch rather than by the request as a whole.
var instanceCodes = map[string]bool{
	"IncorrectInstanceStatus":                  true,
	"IncorrectInstanceStatus.Initializing":     true,
	"InvalidOperation.DeletionProtection":      true,
	"InstanceLockedForSecurity":                true,
	"ChargeTypeViolation":                      true,
	"InvalidOperation.EniLinked":               true,
	"OperationDenied.SystemInstanceNotSupport": true,
	"InvalidInstanceIds.ValueNotSupported":     true,
	// StopInstances: an expired subscription, or an instance type that
	// cannot be stopped.
	"InstanceExpiredOrInArrears":   true,
	"InvalidInstanceId.NotSupport": true,
	// The resources' own refusals: a disk still attached or being
	// snapshotted, a snapshot an image or a disk was made from, an EIP
	// not Available or protected.
	"DiskStillAttached":                  true,
	"DiskCreatingSnapshot":               true,
	"IncorrectDiskStatus":                true,
	"SnapshotCreatedImage":               true,
	"SnapshotCreatedDisk":                true,
	"IncorrectEipStatus":                 true,
	"Forbidden.ChargeTypeIsPrepaid":      true,
	"InvalidDiskChargeType.NotSupported": true,
	// DeleteImage refusing the image (all 403): instances were created
	// from it, it is shared, or it is being created, copied, imported or
	// exported.
	"ImageUsingByInstance":         true,
	"ImageUseShared":               true,
	"ImageIsCreating":              true,
	"OperationDenied.ImageCopying": true,
	"ImageIsImporting":             true,
	"ImageIsExporting":             true,
	// TagResources refusing one resource of the call: it already carries
	// the 20 tags a resource may hold, or it cannot be tagged.
	"OperationDenied.QuotaExceed":    true,
	"QuotaExceed.Tags":               true,
	"InvalidResourceId.NotSupported": true,
}

var notFoundCodes = map[string]bool{
	"InvalidInstanceIds.NotFound":  true,
	"InvalidInstanceId.NotFound":   true,
	"InvalidResourceId.NotFound":   true, // TagResources
	"InvalidAllocationId.NotFound": true, // ReleaseEipAddress
	"InvalidDiskId.NotFound":       true,
	"InvalidSnapshotId.NotFound":   true,
	"InvalidImageId.NotFound":      true,
	"NoSuchKey":                    true, // OSS GetObject: no result stored yet
}

// alreadyExistsCodes: OSS's forbid-overwrite, and CloudFlow's
// StartExecution of a name whose execution has finished.
var alreadyExistsCodes = map[string]bool{
	"FileAlreadyExists":      true,
	"ExecutionAlreadyExists": true,
}

var retryableCodes = map[string]bool{
	"ServiceUnavailable":    true,
	"InternalError":         true,
	"InternalError.Timeout": true,
	"UnknownError":          true,
	// The same ClientToken still being processed (overlapping invocations
	// of one tick share tokens), or another operation on the instance.
	"LastTokenProcessing": true,
	"OperationConflict":   true,
	// DeleteSnapshot's "retry later", and the VPC API's busy answers
	// (TaskConflict.* is matched as a family in ClassifyCode).
	"Operation.Conflict": true,
	"SystemBusy":         true,
	"TaskConflict":       true,
}

// regionCodes say the region is unknown or not open to the account.
var regionCodes = map[string]bool{
	"Forbidden.RegionNotFound": true, // the VPC API
	"InvalidRegionId.NotFound": true,
}

var credentialCodes = map[string]bool{
	"SignatureDoesNotMatch":  true,
	"IncompleteSignature":    true,
	"InvalidAccessKeyId":     true,
	"InvalidAccessKeySecret": true,
	"NoPermission":           true,
	"UnauthorizedOperation":  true,
	"InvalidSecurityToken":   true,
	"SecurityTokenExpired":   true,
	// AssumeRole: the role is missing in the member, or the caller is not
	// trusted (or its ExternalId does not match the trust policy).
	"EntityNotExist.Role": true,
	"AccessDenied":        true,
}

// UnreachableReason names, for a member account whose role could not be
// assumed, why: from the AssumeRole error's code and class, never its
// message.
func UnreachableReason(err error) string {
	code, class := Code(err), Classify(err)
	switch {
	case code == "EntityNotExist.Role":
		return "role-missing"
	case class == ClassThrottled:
		return "throttled"
	case class == ClassCredential:
		return "denied"
	case class == ClassCanceled:
		return "deadline"
	case class == ClassRetryable:
		return "unavailable"
	}
	return "refused"
}

// products names the API of the actions that are not ECS's in errors.
var products = map[string]string{
	ActionAssumeRole:        "sts",
	ActionGetCallerIdentity: "sts",
	ActionListAccounts:      "resourcemanager",
}

// ClassifyCode maps an API error code and HTTP status to a class. Prefix
// families (Throttling*, DependencyViolation.*, Forbidden*, TaskConflict.*,
// ...) are matched on the code, never on message text.
func ClassifyCode(code string, httpStatus int) Class {
	switch {
	case code == CodeDryRunOK || code == "DryRunOperation":
		return ClassDryRunPassed
	case code == CodeCanceled:
		return ClassCanceled
	case strings.HasPrefix(code, "Throttling") || code == "Rejected.Throttling" || code == "ServiceUnavailable.Throttling" ||
		httpStatus == 429:
		return ClassThrottled
	case notFoundCodes[code]:
		return ClassNotFound
	case alreadyExistsCodes[code]:
		return ClassAlreadyExists
	case instanceCodes[code] || strings.HasPrefix(code, "DependencyViolation."):
		return ClassInstance
	case regionCodes[code]:
		return ClassRegion
	case credentialCodes[code] ||
		strings.HasPrefix(code, "InvalidAccessKeyId.") ||
		strings.HasPrefix(code, "InvalidSecurityToken.") ||
		strings.HasPrefix(code, "Forbidden"):
		return ClassCredential
	case retryableCodes[code] || strings.HasPrefix(code, "TaskConflict.") || code == CodeTransport || code == CodeTimeout || code == CodeBadResponse:
		return ClassRetryable
	case code == "" && httpStatus >= 500:
		return ClassRetryable
	case httpStatus >= 500 && !strings.HasPrefix(code, "InvalidParameter"):
		return ClassRetryable
	}
	return ClassFatal
}

// Error is a failed ECS call. Its message carries the action, region, code,
// HTTP status, request ID and the server's message with any credential
// material removed; the SDK's own error text is never shown because it can
// contain the signed query string.
type Error struct {
	Action     string
	Region     string
	Code       string
	Message    string
	HTTPStatus int
	RequestID  string
	Class      Class
	cause      error // sanitised; never holds a URL with credentials
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	product := "ecs"
	if p, ok := products[e.Action]; ok {
		product = p
	}
	fmt.Fprintf(&b, "%s %s", product, e.Action)
	if e.Region != "" {
		fmt.Fprintf(&b, " in %s", e.Region)
	}
	fmt.Fprintf(&b, ": %s", e.Code)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Unwrap exposes the sanitised cause (a context error, a timeout).
func (e *Error) Unwrap() error { return e.cause }

// Classify returns the class of any error returned by this package, and of
// context errors. Unknown errors are fatal: never retried blindly.
func Classify(err error) Class {
	if err == nil {
		return ClassFatal
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.Class
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassCanceled
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return ClassRetryable
	}
	return ClassFatal
}

// Code returns the API error code of err, or "" when it has none.
func Code(err error) string {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return CodeCanceled
	}
	return ""
}

// Package decide holds the release rules: a pure function from an instance,
// the rules and the current time to exactly one outcome. Nothing here talks
// to the network, so every rule is covered by table tests.
//
// Decide checks the rules in this order; the first that applies wins, and
// every instance gets exactly one Decision:
//
//  1. No opt-in tag (Rules.OptInKey) → skip "no-opt-in"; such instances are
//     never touched. An empty or malformed instance ID, or a charge type
//     other than PrePaid/PostPaid → skip "invalid-data".
//  2. The exclusion tag (Rules.KeepKey) with any value → skip "excluded".
//  3. DeletionProtection → skip "deletion-protected".
//  4. Operation locks, compared case-insensitively: "security" → skip
//     "security-locked" (releasing a security-locked instance also deletes
//     disks marked DeleteWithInstance=false). "financial" is allowed only on
//     a PrePaid instance whose ExpiredTime has passed (an expired
//     subscription); otherwise, and for every other reason ("recycling",
//     "refunded", "dedicatedhostfinancial" or anything unknown) → skip
//     "locked".
//  5. The expiry, read from the opt-in tag's value (see ParseExpiry): an
//     RFC 3339 timestamp, a YYYY-MM-DD date (start of day in
//     Rules.Location) or a time to live from CreationTime such as "36h",
//     "7d", "2w" or "1w2d". A value that cannot be trusted → skip
//     "invalid-expiry"; an expiry still in the future → skip "not-expired".
//     An instance expires at the expiry instant itself (now >= expiry).
//  6. PrePaid instances: ExpiredTime in the future → skip
//     "subscription-active", whatever the tag says; unparseable → skip
//     "invalid-data"; passed → release with TerminateSubscription. PostPaid
//     instances ignore ExpiredTime (the API fills in a 2099 placeholder).
//  7. Status: Stopped → release; Running → release with Force only when
//     Rules.Force, else skip "running"; anything else (Pending, Starting,
//     Stopping, unknown) → skip "transitional-state".
//
// Times from the API are parsed by ParseECSTime, which accepts the minute
// precision the API really returns as well as the documented seconds form.
package decide

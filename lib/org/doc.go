// Package org decides which accounts a run sweeps and gives each member
// account credentials of its own, for sweeping a Resource Directory from
// one deployment in the management account (or a delegated administrator).
//
// The API the engine and the CLI wire in:
//
//   - Parse(accounts, tag, exclude) reads REAPER_ACCOUNTS, REAPER_ACCOUNT_TAG
//     and REAPER_ACCOUNTS_EXCLUDE into a Selection, refusing what is unsafe
//     (rd without a tag and without exclusions, a tag without rd, ...).
//     Selection.Multi is false for "" and "self": today's single-account
//     run, which needs nothing of this package.
//   - Resolve(ctx, sel, own, lister) turns a Selection into a Plan: the
//     Targets, sorted by ID, and the Skipped members with the reason
//     (excluded, not joined with its status, untagged, the function's own
//     account under rd). own is the account the credentials belong to
//     (FC's context.AccountId, or ecsapi.Client.GetCallerIdentity); a Target
//     with Self set is swept with the caller's own credentials. lister is
//     an *ecsapi.Client (ListAccounts, paged, with the tag filter sent and
//     checked again on the answer).
//   - Narrow(plan, requested) keeps the requested accounts of a payload or
//     --accounts: a subset of the plan, never more (ParseIDs reads them).
//   - NewAssumer(api, RoleConfig) and Assumer.Assume(ctx, account) return a
//     *Session: the member's credentials from STS AssumeRole on
//     acs:ram::<account>:role/<RoleName>, with ExternalId when set, a
//     session policy granting exactly kinds.RAMActions (the list of
//     docs/ram-policy.json) and a session name naming the tool and the run.
//     A Session is an ecsapi.CredentialSource (Config.Source of the
//     account's ECS/VPC client): it refreshes the credentials before they
//     expire. AssumeRole calls are paced (RoleConfig.PerSecond, default
//     DefaultAssumePerSecond, well under STS's 100/s per account) and
//     throttled or failing calls retried; a failure is an *UnreachableError
//     (Reason: denied, role-missing, throttled, unavailable, refused,
//     deadline; classified by code in ecsapi): nothing may be written in
//     that account, the others go on, and the run fails.
//
// Credentials and the ExternalId never appear in errors or logs:
// ecsapi.Credentials, Session and Assumer format redacted, and errors carry
// the API's code and a redacted message, never the SDK's text.
//
// The doubles: lib/orgdouble (STS and ResourceManager) issues credentials
// into an ecsdouble.Registry that ecsdouble.StartAccounts (one fleet per
// account) shares, so tests drive all of this through the real SDK.
package org

// Package sweep runs one release sweep: discover the opted-in instances of
// every region, decide each one with package decide, check the blast-radius
// caps, and release the eligible ones with DeleteInstances in batches of at
// most 100 IDs that share region and flags.
//
// The sweep has three phases so that no instance is released before the
// whole run is known:
//
//  1. Discover and decide, regions in parallel. A region whose listing fails
//     after retries is closed: nothing is released there.
//  2. Check the caps (count and share of opted-in instances) across all
//     regions. Over either, nothing is released anywhere.
//  3. Release, regions in parallel and batches in parallel under a limit
//     that halves on throttling and grows back on success. A batch whose
//     listing data is older than the freshness window is re-read first; a
//     failed batch is re-read, the instances that changed or vanished are
//     dropped with their new reason, and the rest retried; only when the
//     re-read explains nothing is the batch split in halves.
//
// Dry run takes exactly the same path; its DeleteInstances calls carry
// DryRun=true and DRYRUN.SUCCESS counts as "would release".
package sweep

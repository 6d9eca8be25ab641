package ecsapi

// SetMaxPageBytes lowers the size bound of a listing page for a test and
// returns a function that restores it.
func SetMaxPageBytes(n int64) (restore func()) {
	old := maxPageBytes
	maxPageBytes = n
	return func() { maxPageBytes = old }
}

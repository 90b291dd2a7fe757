package cluster

// SetPageSize sets how many objects a list request asks for, so that a test
// can make the API server page through a few objects.
func SetPageSize(n int64) (restore func()) {
	old := pageSize
	pageSize = n
	return func() { pageSize = old }
}

package gh

// SupportsRunDetails reports whether dispatches to this host still ask for
// run details (false after GitHub rejected return_run_details once). Only
// the tests need to look; the product just sends what the host accepts.
func SupportsRunDetails(c *Client) bool { return !c.noRunDetails.Load() }

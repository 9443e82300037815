package command

// Comment is one issue_comment event, reduced to what commands need: the
// webhook handlers decode it and the slash-command service runs it.
type Comment struct {
	InstallationID int64
	// Action is created, edited or deleted; only created runs commands.
	Action        string
	Owner, Repo   string
	Issue         int
	IsPullRequest bool
	CommentID     int64
	HTMLURL       string
	Body          string
	Author        string
	// AuthorType is GitHub's user.type: User, Bot or Organization.
	AuthorType string
}

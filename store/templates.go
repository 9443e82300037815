package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ethpandaops/dispatchoor/core"
)

const templateColumns = `id, group_id, name, owner, repo, workflow_id, ref, inputs, labels,
	source_kind, source_location, label_mismatch`

type templateRow struct {
	ID             string `db:"id"`
	GroupID        string `db:"group_id"`
	Name           string `db:"name"`
	Owner          string `db:"owner"`
	Repo           string `db:"repo"`
	WorkflowID     string `db:"workflow_id"`
	Ref            string `db:"ref"`
	Inputs         string `db:"inputs"`
	Labels         string `db:"labels"`
	SourceKind     string `db:"source_kind"`
	SourceLocation string `db:"source_location"`
	LabelMismatch  string `db:"label_mismatch"`
}

func (r templateRow) template() (core.Template, error) {
	t := core.Template{
		ID: r.ID, GroupID: r.GroupID, Name: r.Name, Owner: r.Owner, Repo: r.Repo,
		WorkflowID: r.WorkflowID, Ref: r.Ref,
		Source:        core.TemplateSource{Kind: core.TemplateSourceKind(r.SourceKind), Location: r.SourceLocation},
		LabelMismatch: r.LabelMismatch,
	}
	if err := json.Unmarshal([]byte(r.Inputs), &t.Inputs); err != nil {
		return core.Template{}, fmt.Errorf("template %s: decode inputs: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Labels), &t.Labels); err != nil {
		return core.Template{}, fmt.Errorf("template %s: decode labels: %w", r.ID, err)
	}
	return t, nil
}

func (q *Q) upsertTemplate(ctx context.Context, t core.Template, now time.Time) error {
	if t.ID == "" {
		return fmt.Errorf("sync template: empty id")
	}
	inputs, labels := t.Inputs, t.Labels
	if inputs == nil {
		inputs = map[string]string{}
	}
	if labels == nil {
		labels = map[string]string{}
	}
	ij, err := jsonText(inputs)
	if err != nil {
		return fmt.Errorf("sync template %s: encode inputs: %w", t.ID, err)
	}
	lj, err := jsonText(labels)
	if err != nil {
		return fmt.Errorf("sync template %s: encode labels: %w", t.ID, err)
	}
	kind := t.Source.Kind
	if kind == "" {
		kind = core.SourceInline
	}
	// label_mismatch is runtime state learnt from webhooks; a reload keeps it.
	_, err = q.x.ExecContext(ctx, q.rebind(`
		INSERT INTO templates (id, group_id, name, owner, repo, workflow_id, ref, inputs, labels,
			source_kind, source_location, label_mismatch, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)
		ON CONFLICT (id) DO UPDATE SET
			group_id = excluded.group_id, name = excluded.name, owner = excluded.owner,
			repo = excluded.repo, workflow_id = excluded.workflow_id, ref = excluded.ref,
			inputs = excluded.inputs, labels = excluded.labels, source_kind = excluded.source_kind,
			source_location = excluded.source_location, updated_at = excluded.updated_at`),
		t.ID, t.GroupID, t.Name, t.Owner, t.Repo, t.WorkflowID, t.Ref, ij, lj,
		string(kind), t.Source.Location, now)
	if err != nil {
		return fmt.Errorf("sync template %s: %w", t.ID, err)
	}
	return nil
}

// ListTemplates returns the templates of a group, or of all groups when
// groupID is empty, by group and id.
func (q *Q) ListTemplates(ctx context.Context, groupID string) ([]core.Template, error) {
	query := "SELECT " + templateColumns + " FROM templates"
	var args []any
	if groupID != "" {
		query += " WHERE group_id = ?"
		args = append(args, groupID)
	}
	query += " ORDER BY group_id, id"
	out, err := selectRows(ctx, q, templateRow.template, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list templates of %q: %w", groupID, err)
	}
	return out, nil
}

// GetTemplate returns one template.
func (q *Q) GetTemplate(ctx context.Context, id string) (core.Template, error) {
	var r templateRow
	if err := q.x.GetContext(ctx, &r, q.rebind("SELECT "+templateColumns+" FROM templates WHERE id = ?"), id); err != nil {
		return core.Template{}, notFound(err, fmt.Sprintf("get template %s", id))
	}
	return r.template()
}

// SetTemplateLabelMismatch records (or, with "", clears) the runs-on labels
// of a template's runs that no runner of its group carries.
func (q *Q) SetTemplateLabelMismatch(ctx context.Context, id, mismatch string) error {
	res, err := q.x.ExecContext(ctx, q.rebind("UPDATE templates SET label_mismatch = ? WHERE id = ?"), mismatch, id)
	if err != nil {
		return fmt.Errorf("set label mismatch of template %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set label mismatch of template %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("set label mismatch of template %s: %w", id, ErrNotFound)
	}
	return nil
}

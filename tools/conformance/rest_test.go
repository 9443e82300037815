package conformance

import (
	"encoding/json"
	"testing"
)

func TestRESTRunnersList(t *testing.T) {
	t.Parallel()
	v := New(t)
	for _, spec := range []Spec{APIGitHubCom, GHES319} {
		docs := docExamples(t, spec)
		runners := docs["runner-paginated"]
		if len(runners) == 0 {
			t.Fatalf("%s publishes no runner-paginated example", spec)
		}
		cases := []struct {
			name string
			path string
			body []byte
			want string // "" means accepted
		}{
			{"docs example passes", "/orgs/o/actions/runners", runners, ""},
			{"GHES base and query are stripped", "/api/v3/orgs/o/actions/runners?per_page=100&page=2", runners, ""},
			{"full URL is reduced to its path", "https://ghes.example/api/v3/repos/o/r/actions/runners", runners, ""},
			{"missing total_count is refused", "/orgs/o/actions/runners",
				edit(t, runners, func(m map[string]any) { delete(m, "total_count") }), "total_count"},
			{"runner id as string is refused", "/orgs/o/actions/runners",
				edit(t, runners, func(m map[string]any) { m["runners"].([]any)[0].(map[string]any)["id"] = "23" }), "/runners/0/id"},
			{"busy as string is refused", "/orgs/o/actions/runners",
				edit(t, runners, func(m map[string]any) { m["runners"].([]any)[1].(map[string]any)["busy"] = "false" }), "/runners/1/busy"},
		}
		for _, tc := range cases {
			t.Run(string(spec)+"/"+tc.name, func(t *testing.T) {
				err := v.REST(spec, "GET", tc.path, 200, tc.body)
				if tc.want == "" {
					if err != nil {
						t.Fatalf("want accepted, got %v", err)
					}
					return
				}
				wantRefused(t, err, tc.want)
			})
		}
	}
}

func TestRESTRouting(t *testing.T) {
	t.Parallel()
	v := New(t)
	cases := []struct {
		name   string
		method string
		path   string
		status int
		body   string
		want   string
	}{
		{"undocumented status is refused", "GET", "/orgs/o/actions/runners", 201, `{}`,
			"status 201 not documented for GET /orgs/o/actions/runners"},
		{"unknown path is refused", "GET", "/dispatchoor/robots", 200, `{}`,
			"no operation in api.github.com matches GET /dispatchoor/robots"},
		{"undocumented method is refused", "DELETE", "/orgs/o/actions/runners", 204, "",
			"DELETE not documented for /orgs/{org}/actions/runners"},
		{"literal segment wins over parameter", "GET", "/repos/o/r/actions/runners/downloads", 200, `[]`, ""},
		{"parameter segment still matches", "GET", "/repos/o/r/actions/runners/42", 200, `[]`, "must be object"},
		{"literal POST route is found beside {runner_id}", "POST", "/repos/o/r/actions/runners/generate-jitconfig", 201,
			`{"runner":{"id":1,"name":"r","os":"linux","status":"online","busy":false,"labels":[]},"encoded_jit_config":"abc"}`, ""},
		{"cancel answers 202 with an empty object", "POST", "/repos/o/r/actions/runs/7/cancel", 202, `{}`, ""},
		{"cancel of a finished run is a 409", "POST", "/repos/o/r/actions/runs/7/cancel", 409,
			`{"message":"Cannot cancel a workflow run that is completed.","documentation_url":"https://docs.github.com/rest"}`, ""},
		{"404 error body follows basic-error", "GET", "/repos/o/r/installation", 404,
			`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`, ""},
		{"error body without message type is refused", "GET", "/repos/o/r/installation", 404, `{"message":404}`, "/message"},
		{"invalid JSON body is refused", "GET", "/orgs/o/actions/runners", 200, `{"total_count":`, "not valid JSON"},
		{"JSON body where none is documented is refused", "DELETE", "/repos/o/r/actions/runners/42", 204, `{}`,
			"declares no content, but the body is not empty"},
		{"empty body where JSON is documented is refused", "GET", "/orgs/o/actions/runners", 200, "",
			"documents a application/json body, but the body is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := v.REST(APIGitHubCom, tc.method, tc.path, tc.status, []byte(tc.body))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			wantRefused(t, err, tc.want)
		})
	}
}

func TestRESTUnknownSpecIsRefused(t *testing.T) {
	t.Parallel()
	v := New(t)
	wantRefused(t, v.REST("ghes-2.0", "GET", "/orgs/o/actions/runners", 200, []byte(`{}`)), "ships no generated/ghes-2.0.json")
	wantRefused(t, v.REST("../../etc/passwd", "GET", "/x", 200, nil), "unknown spec")
}

// GitHub's descriptions are OpenAPI 3.0: "nullable: true" beside a type, beside
// an anyOf without a type (installation.account), and beside an enum that does
// not list null all mean null is a legal value.
func TestRESTNullable(t *testing.T) {
	t.Parallel()
	v := New(t)
	for _, spec := range []Spec{APIGitHubCom, GHES319} {
		installation := docExamples(t, spec)["installation"]
		cases := []struct {
			name   string
			change func(m map[string]any)
			want   string
		}{
			{"docs example passes", func(map[string]any) {}, ""},
			{"nullable string accepts null", func(m map[string]any) { m["suspended_at"] = nil; m["single_file_name"] = nil }, ""},
			{"nullable anyOf without type accepts null", func(m map[string]any) { m["account"] = nil }, ""},
			{"nullable $ref accepts null", func(m map[string]any) { m["suspended_by"] = nil }, ""},
			{"non-nullable integer refuses null", func(m map[string]any) { m["app_id"] = nil }, "/app_id"},
			{"non-nullable enum refuses null", func(m map[string]any) { m["repository_selection"] = nil }, "/repository_selection"},
			{"required nullable field must still be present", func(m map[string]any) { delete(m, "suspended_at") }, "suspended_at"},
		}
		for _, tc := range cases {
			t.Run(string(spec)+"/"+tc.name, func(t *testing.T) {
				err := v.REST(spec, "GET", "/repos/o/r/installation", 200, edit(t, installation, tc.change))
				if tc.want == "" {
					if err != nil {
						t.Fatalf("want accepted, got %v", err)
					}
					return
				}
				wantRefused(t, err, tc.want)
			})
		}
	}

	alert := docExamples(t, APIGitHubCom)["code-scanning-alert"]
	open := edit(t, alert, func(m map[string]any) {
		m["state"] = "open"
		m["dismissed_reason"] = nil
		m["dismissed_by"] = nil
		m["dismissed_at"] = nil
	})
	t.Run("nullable enum without null in its list accepts null", func(t *testing.T) {
		if err := v.REST(APIGitHubCom, "GET", "/repos/o/r/code-scanning/alerts/42", 200, open); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nullable enum still refuses values outside its list", func(t *testing.T) {
		bad := edit(t, open, func(m map[string]any) { m["dismissed_reason"] = "bored" })
		wantRefused(t, v.REST(APIGitHubCom, "GET", "/repos/o/r/code-scanning/alerts/42", 200, bad), "/dismissed_reason")
	})
}

// ghsim answers workflow dispatch with 200 and run details when the request
// asks for return_run_details, and 204 otherwise; GHES 3.19 knows only 204.
func TestRESTWorkflowDispatch(t *testing.T) {
	t.Parallel()
	v := New(t)
	const path = "/repos/o/r/actions/workflows/build.yml/dispatches"
	details := docExamples(t, APIGitHubCom)["workflow-dispatch-response"]
	if len(details) == 0 {
		t.Fatal("api.github.com publishes no workflow-dispatch-response example")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(details, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"workflow_run_id", "run_url", "html_url"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("documented dispatch response lacks %s: %s", f, details)
		}
	}
	cases := []struct {
		name   string
		spec   Spec
		status int
		body   []byte
		want   string
	}{
		{"204 with empty body passes on github.com", APIGitHubCom, 204, nil, ""},
		{"204 with empty body passes on GHES 3.19", GHES319, 204, nil, ""},
		{"204 with a body is refused", APIGitHubCom, 204, []byte(`{"workflow_run_id":1}`), "declares no content"},
		{"200 with run details passes on github.com", APIGitHubCom, 200, details, ""},
		{"200 without workflow_run_id is refused", APIGitHubCom, 200,
			edit(t, details, func(m map[string]any) { delete(m, "workflow_run_id") }), "workflow_run_id"},
		{"200 with a non-URI run_url is refused", APIGitHubCom, 200,
			edit(t, details, func(m map[string]any) { m["run_url"] = "not a uri" }), "/run_url"},
		{"200 is not documented on GHES 3.19", GHES319, 200, details,
			"status 200 not documented for POST " + path},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := v.REST(tc.spec, "POST", "/api/v3"+path, tc.status, tc.body)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			wantRefused(t, err, tc.want)
		})
	}
}

package command

import (
	"reflect"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"bare template", tmpl("t"), "/dispatch t"},
		{"plain values stay bare", tmpl("t", in("a", "1"), in("ref", "v1.2/x")), "/dispatch t a=1 ref=v1.2/x"},
		{"spaces are single-quoted", tmpl("t", in("note", "two words")), "/dispatch t note='two words'"},
		{"JSON is single-quoted", tmpl("t", in("c", `{"network":"hoodi"}`)), `/dispatch t c='{"network":"hoodi"}'`},
		{"both quote kinds use escaped double quotes", tmpl("t", in("v", `it's "x" \o/`)), `/dispatch t v="it's \"x\" \\o/"`},
		{"empty value is written", tmpl("t", in("v", "")), "/dispatch t v=''"},
		{"dash value is quoted", tmpl("t", in("v", "--top")), "/dispatch t v='--top'"},
		{"all flags in fixed order", Command{Kind: KindDispatch, Template: "t", Group: "g", Ref: "main", Top: true, Requeue: 0},
			"/dispatch t --group g --ref main --top --requeue 0"},
		{"requeue -1 is left out", Command{Kind: KindDispatch, Template: "t", Requeue: -1, Group: "big pool"},
			"/dispatch t --group 'big pool'"},
		{"status", Command{Kind: KindStatus}, "/dispatch status"},
		{"status with id", Command{Kind: KindStatus, JobID: 9}, "/dispatch status 9"},
		{"cancel", Command{Kind: KindCancel, JobID: 9}, "/dispatch cancel 9"},
		{"list", Command{Kind: KindList}, "/dispatch list"},
		{"help", Command{Kind: KindHelp}, "/dispatch help"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cmd.String(); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// checkRoundTrip asserts that String writes c so that Parse reads back c.
func checkRoundTrip(t *testing.T, c Command) {
	t.Helper()
	s := c.String()
	if strings.ContainsAny(s, "\n") {
		t.Fatalf("String wrote more than one line: %q", s)
	}
	back, errs := Parse(s)
	if len(errs) != 0 || len(back) != 1 {
		t.Fatalf("String wrote %q, which parses to %v with errors %v", s, back, errs)
	}
	want := c
	want.Line = 1
	if !reflect.DeepEqual(back[0], want) {
		t.Fatalf("round trip through %q:\ngot  %#v\nwant %#v", s, back[0], want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.want {
				checkRoundTrip(t, c)
			}
		})
	}
	tricky := []string{"", " ", "\t", "'", `"`, `\`, `\\"`, `'"`, "a'b\"c\\d", "--x", "-", "=", "a=b", "\r", "x\r",
		"{\"a\": [1, 2]}", "héllo wörld", "\x00", "\xff\xfe", "#1", "> q", "```", "/dispatch t"}
	for _, v := range tricky {
		t.Run("value "+v, func(t *testing.T) {
			checkRoundTrip(t, tmpl("t", in("k", v)))
			if v != "" {
				checkRoundTrip(t, Command{Kind: KindDispatch, Template: "t", Group: v, Ref: v, Requeue: 5})
			}
		})
	}
}

func TestHelpShowsEveryForm(t *testing.T) {
	h := Help()
	for _, want := range []string{
		"/dispatch <template-id> [key=value ...] [--group G] [--ref R] [--top] [--requeue N]",
		"/dispatch status [job-id]", "/dispatch cancel <job-id>", "/dispatch list", "/dispatch help",
		"--ref pr", "--group=G",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	// The grammar sits in a code block, so quoting the help in a comment
	// never runs a command.
	if cmds, errs := Parse(h); len(cmds) != 0 || len(errs) != 0 {
		t.Errorf("help text parses as commands %v / errors %v", cmds, errs)
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.text)
	}
	for _, tc := range errorCases {
		f.Add(tc.text)
	}
	f.Add("/dispatch t v=\"a\\\"b\" w='x y' --group=\"g h\" --ref '--r' --top --requeue 007\n> /dispatch x\n~~~\n/dispatch y")
	f.Fuzz(func(t *testing.T, text string) {
		cmds, errs := Parse(text)
		lines := strings.Count(text, "\n") + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > lines || e.Column < 1 || e.Msg == "" {
				t.Fatalf("bad error position %+v for %q", e, text)
			}
		}
		for _, c := range cmds {
			if c.Line < 1 || c.Line > lines {
				t.Fatalf("bad line %d", c.Line)
			}
			checkRoundTrip(t, c)
		}
	})
}

const realisticComment = `Thanks for the fix! Before merging, let's run the long sync tests.

> /dispatch sync-hoodi --top
> (quoted from the previous comment, must not run)

` + "```yaml" + `
# how to run it yourself:
/dispatch sync-mainnet el=geth cl=lighthouse
` + "```" + `

/dispatch sync-hoodi el=geth cl=lighthouse config='{"network":"hoodi","checkpoint":true}' --ref pr --requeue 2
/dispatch sync-sepolia el=nethermind cl="teku beta" --group big-disks --top
/dispatch status
/dispatch cancel #1234

cc @ethpandaops/devops
`

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(realisticComment)))
	for b.Loop() {
		cmds, errs := Parse(realisticComment)
		if len(cmds) != 4 || len(errs) != 0 {
			b.Fatalf("got %d commands, %v", len(cmds), errs)
		}
	}
}

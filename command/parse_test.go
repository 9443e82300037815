package command

import (
	"reflect"
	"strings"
	"testing"
)

func tmpl(id string, inputs ...Input) Command {
	return Command{Kind: KindDispatch, Line: 1, Template: id, Inputs: inputs, Requeue: -1}
}

func in(k, v string) Input { return Input{Key: k, Value: v} }

var validCases = []struct {
	name string
	text string
	want []Command
}{
	{"bare template", "/dispatch sync-hoodi", []Command{tmpl("sync-hoodi")}},
	{"template id with dots, underscores and digits", "/dispatch 9v1.2_geth-x", []Command{tmpl("9v1.2_geth-x")}},
	{"inputs in written order", "/dispatch t b=2 a=1", []Command{tmpl("t", in("b", "2"), in("a", "1"))}},
	{"empty input value", "/dispatch t note=", []Command{tmpl("t", in("note", ""))}},
	{"value keeps later equals signs", "/dispatch t expr=a=b", []Command{tmpl("t", in("expr", "a=b"))}},
	{"double-quoted value with spaces", `/dispatch t note="two words"`, []Command{tmpl("t", in("note", "two words"))}},
	{"single-quoted JSON", `/dispatch t config='{"network":"hoodi"}'`, []Command{tmpl("t", in("config", `{"network":"hoodi"}`))}},
	{"double quotes unescape quote and backslash", `/dispatch t v="say \"hi\" \\o/"`, []Command{tmpl("t", in("v", `say "hi" \o/`))}},
	{"other backslashes stay literal", `/dispatch t v="a\nb" w=c\d`, []Command{tmpl("t", in("v", `a\nb`), in("w", `c\d`))}},
	{"quoted parts glue to bare parts", `/dispatch t v=pre"mid dle"'post'`, []Command{tmpl("t", in("v", "premid dlepost"))}},
	{"unbalanced JSON braces are just text", `/dispatch t v={"a":[1,2]`, []Command{tmpl("t", in("v", `{a:[1,2]`))}},
	{"all flags, spaced", "/dispatch t --group g1 --ref main --top --requeue 3", []Command{
		{Kind: KindDispatch, Line: 1, Template: "t", Group: "g1", Ref: "main", Top: true, Requeue: 3}}},
	{"flags with equals", "/dispatch t --group=g1 --ref=refs/tags/v1 --requeue=0", []Command{
		{Kind: KindDispatch, Line: 1, Template: "t", Group: "g1", Ref: "refs/tags/v1", Requeue: 0}}},
	{"flags and inputs interleave", "/dispatch t --top a=1 --ref pr b=2", []Command{
		{Kind: KindDispatch, Line: 1, Template: "t", Inputs: []Input{in("a", "1"), in("b", "2")}, Ref: "pr", Top: true, Requeue: -1}}},
	{"quoted flag value may start with dashes", `/dispatch t --ref "--weird"`, []Command{
		{Kind: KindDispatch, Line: 1, Template: "t", Ref: "--weird", Requeue: -1}}},
	{"quoted flag value with spaces", `/dispatch t --group="big pool"`, []Command{
		{Kind: KindDispatch, Line: 1, Template: "t", Group: "big pool", Requeue: -1}}},
	{"tabs and leading spaces", "  \t/dispatch\tt\ta=1  ", []Command{tmpl("t", in("a", "1"))}},
	{"CRLF line ends", "hi\r\n/dispatch t a=1\r\n/dispatch list\r\n", []Command{
		{Kind: KindDispatch, Line: 2, Template: "t", Inputs: []Input{in("a", "1")}, Requeue: -1},
		{Kind: KindList, Line: 3, Requeue: -1}}},
	{"status without id", "/dispatch status", []Command{{Kind: KindStatus, Line: 1, Requeue: -1}}},
	{"status with id", "/dispatch status 42", []Command{{Kind: KindStatus, Line: 1, JobID: 42, Requeue: -1}}},
	{"status with #id", "/dispatch status #42", []Command{{Kind: KindStatus, Line: 1, JobID: 42, Requeue: -1}}},
	{"cancel", "/dispatch cancel 7", []Command{{Kind: KindCancel, Line: 1, JobID: 7, Requeue: -1}}},
	{"list", "/dispatch list", []Command{{Kind: KindList, Line: 1, Requeue: -1}}},
	{"help", "/dispatch help", []Command{{Kind: KindHelp, Line: 1, Requeue: -1}}},
	{"many commands keep their lines", "Please run:\n/dispatch a\n\n/dispatch b x=1\nthanks\n/dispatch help", []Command{
		{Kind: KindDispatch, Line: 2, Template: "a", Requeue: -1},
		{Kind: KindDispatch, Line: 4, Template: "b", Inputs: []Input{in("x", "1")}, Requeue: -1},
		{Kind: KindHelp, Line: 6, Requeue: -1}}},
	{"no commands", "LGTM, merging.", nil},
	{"empty comment", "", nil},
	{"mention mid-line is not a command", "try /dispatch t later", nil},
	{"/dispatchfoo is not a command", "/dispatchfoo t\n/dispatch-x", nil},
	{"case matters", "/Dispatch t", nil},
	{"quoted line is ignored", "> /dispatch t\n  > /dispatch u", nil},
	{"backtick fence is ignored", "```\n/dispatch t\n```\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 4, Template: "u", Requeue: -1}}},
	{"tilde fence with info string", "~~~ shell\n/dispatch t\n~~~\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 4, Template: "u", Requeue: -1}}},
	{"backtick fence with info string", "```bash title=x\n/dispatch t\n```", nil},
	{"fence closes only with the same character", "```\n~~~\n/dispatch t\n```\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 5, Template: "u", Requeue: -1}}},
	{"fence closes only with a run at least as long", "````\n```\n/dispatch t\n`````\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 5, Template: "u", Requeue: -1}}},
	{"closing fence may not carry text", "```\n``` x\n/dispatch t\n```  \n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 5, Template: "u", Requeue: -1}}},
	{"unclosed fence runs to the end", "/dispatch a\n```\n/dispatch t\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 1, Template: "a", Requeue: -1}}},
	{"indented fence inside a list item", "- example:\n    ```\n    /dispatch t\n    ```\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 5, Template: "u", Requeue: -1}}},
	{"inline code with three backticks is no fence", "```x```\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 2, Template: "u", Requeue: -1}}},
	{"two backticks are no fence", "``\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 2, Template: "u", Requeue: -1}}},
	{"hidden HTML comment is ignored", "<!--\n/dispatch t\n-->\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 4, Template: "u", Requeue: -1}}},
	{"one-line HTML comment hides nothing after it", "<!-- note -->\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 2, Template: "u", Requeue: -1}}},
	{"HTML comment ending mid-line", "<!-- a\n/dispatch t\nend --> x\n/dispatch u", []Command{
		{Kind: KindDispatch, Line: 4, Template: "u", Requeue: -1}}},
	{"CRLF fences", "```\r\n/dispatch t\r\n```\r\n/dispatch u\r\n", []Command{
		{Kind: KindDispatch, Line: 4, Template: "u", Requeue: -1}}},
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := Parse(tc.text)
			if len(errs) != 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

var errorCases = []struct {
	name   string
	text   string
	line   int
	column int
	msg    string
}{
	{"empty /dispatch", "/dispatch", 1, 1, "empty command"},
	{"empty /dispatch with blanks", "ok\n   /dispatch   ", 2, 4, "empty command"},
	{"unterminated double quote", `/dispatch t note="oops`, 1, 18, `unterminated " quote`},
	{"unterminated single quote", `/dispatch t c='{"a":1}`, 1, 15, "unterminated ' quote"},
	{"escaped quote does not close", `/dispatch t v="a\"`, 1, 15, `unterminated " quote`},
	{"unknown flag", "/dispatch t --force", 1, 13, "unknown flag --force"},
	{"unknown flag with value", "/dispatch t --branch=main", 1, 13, "unknown flag --branch"},
	{"bare double dash", "/dispatch t --", 1, 13, "unknown flag --"},
	{"group missing its value at the end", "/dispatch t --group", 1, 13, "--group needs a value"},
	{"ref missing its value before a flag", "/dispatch t --ref --top", 1, 13, "--ref needs a value"},
	{"requeue missing its value", "/dispatch t --requeue", 1, 13, "--requeue needs a value"},
	{"empty flag value", "/dispatch t --group=", 1, 13, "--group needs a non-empty value"},
	{"empty quoted flag value", `/dispatch t --ref ""`, 1, 13, "--ref needs a non-empty value"},
	{"requeue not a number", "/dispatch t --requeue many", 1, 23, `--requeue needs a non-negative integer, got "many"`},
	{"requeue negative", "/dispatch t --requeue=-1", 1, 13, `got "-1"`},
	{"requeue with sign", "/dispatch t --requeue +2", 1, 23, `got "+2"`},
	{"requeue too large", "/dispatch t --requeue 99999999999999999999", 1, 23, "non-negative integer"},
	{"top with a value", "/dispatch t --top=yes", 1, 13, "--top takes no value"},
	{"flag given twice", "/dispatch t --top --top", 1, 19, "--top is given twice"},
	{"group given twice", "/dispatch t --group a --group=b", 1, 23, "--group is given twice"},
	{"duplicate input key", "/dispatch t a=1 b=2 a=3", 1, 21, `input "a" is given twice`},
	{"key=value without a key", "/dispatch t =1", 1, 13, "has no key"},
	{"input key with invalid characters", "/dispatch t 1st=x", 1, 13, `invalid input name "1st"`},
	{"argument that is not an input", "/dispatch t now", 1, 13, `unexpected "now"`},
	{"template id with invalid characters", "/dispatch sync/hoodi", 1, 11, `invalid template id "sync/hoodi"`},
	{"template id starting with a dot", "/dispatch .hidden", 1, 11, "invalid template id"},
	{"quoted template id with a space", `/dispatch "a b"`, 1, 11, "invalid template id"},
	{"quoted command word as template", `/dispatch "list"`, 1, 11, "command word"},
	{"flag before the template id", "/dispatch --top t", 1, 11, "expected a template id before --top"},
	{"input before the template id", "/dispatch a=1 t", 1, 11, "expected a template id before the input"},
	{"status with two ids", "/dispatch status 1 2", 1, 20, "status takes a single job id"},
	{"status id not a number", "/dispatch status abc", 1, 18, `job id must be a positive integer, got "abc"`},
	{"status id zero", "/dispatch status 0", 1, 18, "positive integer"},
	{"status with a flag", "/dispatch status --top", 1, 18, "job id must be a positive integer"},
	{"cancel without id", "/dispatch cancel", 1, 17, "cancel needs a job id"},
	{"cancel negative id", "/dispatch cancel -3", 1, 18, "positive integer"},
	{"cancel id overflows", "/dispatch cancel 9223372036854775808", 1, 18, "positive integer"},
	{"cancel with extra argument", "/dispatch cancel 3 now", 1, 20, "cancel takes a single job id"},
	{"list with arguments", "/dispatch list all", 1, 16, "list takes no arguments"},
	{"help with arguments", "/dispatch help me", 1, 16, "help takes no arguments"},
	{"column counts characters, not bytes", "/dispatch t a=héllo --x", 1, 21, "unknown flag --x"},
	{"column counts leading blanks", "\t  /dispatch t --x", 1, 16, "unknown flag --x"},
	{"CRLF does not shift the column", "/dispatch t --x\r\n", 1, 13, "unknown flag"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			cmds, errs := Parse(tc.text)
			if len(cmds) != 0 {
				t.Fatalf("bad line produced commands: %#v", cmds)
			}
			if len(errs) != 1 {
				t.Fatalf("want one error, got %v", errs)
			}
			e := errs[0]
			if e.Line != tc.line || e.Column != tc.column || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("got line %d column %d %q; want line %d column %d containing %q",
					e.Line, e.Column, e.Msg, tc.line, tc.column, tc.msg)
			}
			if want := "line "; !strings.HasPrefix(e.Error(), want) {
				t.Fatalf("Error() = %q", e.Error())
			}
		})
	}
}

func TestParseBadLineDoesNotStopOthers(t *testing.T) {
	text := "/dispatch a x=1\n/dispatch b --nope\n> /dispatch c\n/dispatch cancel\n/dispatch d --top"
	cmds, errs := Parse(text)
	var got []string
	for _, c := range cmds {
		got = append(got, c.Template)
	}
	if strings.Join(got, ",") != "a,d" {
		t.Fatalf("commands %v, want a and d", got)
	}
	if len(errs) != 2 || errs[0].Line != 2 || errs[1].Line != 4 {
		t.Fatalf("errors %v, want lines 2 and 4", errs)
	}
}

func TestInputMap(t *testing.T) {
	cmds, _ := Parse(`/dispatch t a=1 b="x y"`)
	m := cmds[0].InputMap()
	if len(m) != 2 || m["a"] != "1" || m["b"] != "x y" {
		t.Fatalf("got %v", m)
	}
}

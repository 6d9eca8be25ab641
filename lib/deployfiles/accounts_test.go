package deployfiles_test

import (
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/deployfiles"
)

// Template parameter defaults as a stack for several accounts sets them.
func accountsDefault(name, value string) edit {
	return edit{deployfiles.TemplatePath, "  " + name + ":\n    Type: String\n    Default: ''\n", "  " + name + ":\n    Type: String\n    Default: '" + value + "'\n"}
}

var listDirectory = edit{deployfiles.TemplatePath, "    Default: 'false'\n    AllowedValues: ['true', 'false']\n    Description: \"'true' grants", "    Default: 'true'\n    AllowedValues: ['true', 'false']\n    Description: \"'true' grants"}

const tAssume = "Resources.ReaperAssumeMemberRole.Properties"

func check(t *testing.T, edits ...edit) []deployfiles.Problem {
	t.Helper()
	f, err := deployfiles.Load(mutated(t, edits...))
	if err != nil {
		t.Fatal(err)
	}
	return f.Check()
}

func hasProblem(ps []deployfiles.Problem, file, path, msg string) bool {
	for _, p := range ps {
		if p.File == file && p.Path == path && strings.Contains(p.Msg, msg) {
			return true
		}
	}
	return false
}

// The execution role gains sts:AssumeRole on the member role's ARN only
// with several accounts, and resourcemanager:ListAccounts only with rd:
// the template's conditions give exactly that, and the checks refuse a
// stack whose settings and grants disagree.
func TestTemplateGrantsForAccounts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []edit
		want  []string // path: message; none: no problem
	}{
		{name: "own account: no grant", edits: nil},
		{name: "listed accounts", edits: []edit{accountsDefault("Accounts", "1234567890123456")}},
		{name: "rd with ListDirectory", edits: []edit{accountsDefault("Accounts", "rd"), accountsDefault("AccountTag", "ecs-reaper=on"), listDirectory}},
		{name: "rd without ListDirectory", edits: []edit{accountsDefault("Accounts", "rd"), accountsDefault("AccountTag", "ecs-reaper=on")},
			want: []string{"Resources: grant no resourcemanager:ListAccounts"}},
		{name: "ListDirectory without rd", edits: []edit{accountsDefault("Accounts", "1234567890123456"), listDirectory},
			want: []string{"Resources: grant resourcemanager:ListAccounts, which only REAPER_ACCOUNTS=rd needs"}},
		{name: "AssumeRole on any role", edits: []edit{accountsDefault("Accounts", "1234567890123456"),
			{deployfiles.TemplatePath, "['acs:ram::*:role/', {Ref: MemberRoleName}]", "['acs:ram::*:role/', '*']"}},
			want: []string{tAssume + ".PolicyDocument.Statement[0].Resource: must be exactly \"acs:ram::*:role/ecs-reaper-member\""}},
		{name: "a grant nobody needs", edits: []edit{{deployfiles.TemplatePath, "    Condition: SweepsOtherAccounts\n", ""}},
			want: []string{"Resources: grant sts:AssumeRole, but REAPER_ACCOUNTS sweeps the function's own account only"}},
		{name: "no grant for several accounts", edits: []edit{accountsDefault("Accounts", "1234567890123456"),
			{deployfiles.TemplatePath, "    Condition: SweepsOtherAccounts\n", "    Condition: ListsDirectory\n"}},
			want: []string{"Resources: grant no sts:AssumeRole"}},
		{name: "a policy for another role", edits: []edit{accountsDefault("Accounts", "1234567890123456"),
			{deployfiles.TemplatePath, "      Description: Lets ecs-reaper assume its role in member accounts.\n      Roles:\n        - 'Fn::GetAtt': [ReaperRole, RoleName]\n",
				"      Description: Lets ecs-reaper assume its role in member accounts.\n      Roles:\n        - someone-else\n"}},
			want: []string{tAssume + ".Roles: must be"}},
		{name: "another action", edits: []edit{accountsDefault("Accounts", "1234567890123456"),
			{deployfiles.TemplatePath, "            Action: 'sts:AssumeRole'\n            Resource:\n", "            Action: ['sts:AssumeRole', 'ram:CreateRole']\n            Resource:\n"}},
			want: []string{tAssume + ".PolicyDocument.Statement[0].Action: \"ram:CreateRole\" is not an action for other accounts"}},
		{name: "rd alone is refused", edits: []edit{accountsDefault("Accounts", "rd"), listDirectory},
			want: []string{"Resources.ReaperFunction.Properties.EnvironmentVariables.REAPER_ACCOUNTS: REAPER_ACCOUNTS=rd would sweep every member"}},
		{name: "a literal ExternalId", edits: []edit{{deployfiles.TemplatePath, "    NoEcho: true\n    Default: ''\n    Description: REAPER_ROLE_EXTERNAL_ID", "    NoEcho: true\n    Default: 'literal-ext-id'\n    Description: REAPER_ROLE_EXTERNAL_ID"}},
			want: []string{"Resources.ReaperFunction.Properties.EnvironmentVariables.REAPER_ROLE_EXTERNAL_ID: is written in the file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := check(t, tc.edits...)
			if len(tc.want) == 0 {
				for _, p := range got {
					t.Errorf("%v", p)
				}
				return
			}
			for _, w := range tc.want {
				path, msg, _ := strings.Cut(w, ": ")
				if !hasProblem(got, deployfiles.TemplatePath, path, msg) {
					t.Errorf("no problem %s", w)
				}
			}
			if t.Failed() {
				for _, p := range got {
					t.Logf("got: %v", p)
				}
			}
		})
	}
}

// trustTail is the end of the default trust policy (no ExternalId).
const trustTail = "                    - 'Fn::Join': ['', ['acs:ram::', {Ref: ManagementAccountId}, ':root']]\n      Policies:"

// The member role is the function's policy, trusted by the management
// account only, under the name the function assumes.
func TestMemberRoleChecks(t *testing.T) {
	const role = "Resources.MemberRole.Properties"
	for _, tc := range []struct {
		name  string
		edits []edit
		path  string
		msg   string
	}{
		{"extra action", []edit{{deployfiles.MemberRolePath, "                  - 'ecs:DeleteSnapshot'\n", "                  - 'ecs:DeleteSnapshot'\n                  - 'ecs:RunInstances'\n"}},
			role + ".Policies[0].PolicyDocument.Statement[0].Action", `"ecs:RunInstances" is not an action the function calls`},
		{"missing action", []edit{{deployfiles.MemberRolePath, "                  - 'ecs:DeleteSnapshot'\n", ""}},
			role + ".Policies[0].PolicyDocument.Statement", `does not allow "ecs:DeleteSnapshot"`},
		{"trusts everyone", []edit{{deployfiles.MemberRolePath, trustTail, "                    - '*'\n      Policies:"}},
			role + ".AssumeRolePolicyDocument.Statement[0].Principal.RAM", `trusts "*"`},
		{"trusts a service", []edit{{deployfiles.MemberRolePath, "                  RAM:\n" + trustTail, "                  Service:\n" + trustTail}},
			role + ".AssumeRolePolicyDocument.Statement[0].Principal.Service", "trusts a Service principal"},
		{"another name", []edit{{deployfiles.MemberRolePath, "    Default: ecs-reaper-member\n", "    Default: reaper\n"}},
			role + ".RoleName", `the function assumes "ecs-reaper-member"`},
		{"names differ", []edit{{deployfiles.TemplatePath, "    Default: ecs-reaper-member\n", "    Default: other-role\n"}},
			role + ".RoleName", `the function assumes "other-role"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := check(t, tc.edits...)
			if !hasProblem(got, deployfiles.MemberRolePath, tc.path, tc.msg) {
				t.Errorf("no problem %s: %s", tc.path, tc.msg)
				for _, p := range got {
					t.Logf("got: %v", p)
				}
			}
		})
	}
}

// s.yaml takes the accounts as vars, checked as the function reads them.
func TestSYAMLAccounts(t *testing.T) {
	got := check(t, edit{deployfiles.SYAMLPath, `  accounts: ""`, `  accounts: "rd"`})
	found := false
	for _, p := range got {
		if p.File == deployfiles.SYAMLPath && strings.Contains(p.Path, "REAPER_ACCOUNTS") && strings.Contains(p.Msg, "would sweep every member") {
			found = true
		}
	}
	if !found {
		t.Fatalf("s.yaml with accounts rd alone: %v", got)
	}
	for _, p := range check(t, edit{deployfiles.SYAMLPath, `  accounts: ""`, `  accounts: "rd:fd-1"`}, edit{deployfiles.SYAMLPath, `  accountTag: ""`, `  accountTag: "ecs-reaper=on"`}) {
		t.Errorf("s.yaml with rd and a tag: %v", p)
	}
}

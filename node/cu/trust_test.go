package cu

import (
	"context"
	"strings"
	"testing"

	"github.com/aonode/aonode/bundler"
)

// The Authority an SU names on a spawn's assignment (aonode's deployment MU) is trusted like the spawn's own
// Authority tags, and the process sees it in ao.authorities; a process spawned before its SU named one does
// not trust it. Both survive a restart (the trust comes from the schedule, not from the CU).
func TestSchedulerNamedAuthority(t *testing.T) {
	e := newEnv(t)
	mu := otherUser // plays the deployment's MU
	before := e.spawnKV()
	e.authority = mu.Address() // the SU names the MU from now on
	e.restart()
	pid := e.spawnKV()

	asg, err := e.su.Lookup(context.Background(), pid, pid)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := asg.Assignment.Tag("Authority"); v != mu.Address() {
		t.Fatalf("spawn assignment Authority = %q, want the MU %s", v, mu.Address())
	}
	ev := e.send(user, pid, "return table.concat(ao.authorities, ',')", tag("Action", "Eval"))
	if out := asString(e.result(pid, ev.ID)["Output"]); !strings.Contains(out, mu.Address()) {
		t.Fatalf("ao.authorities does not name the MU: %s", out)
	}

	replyTo := func(target, from string) string {
		t.Helper()
		m := e.send(mu, target, " ", tag("Action", "Set"), tag("Key", "k"), tag("Value", "v"), tag("From-Process", from))
		msgs, _ := e.result(target, m.ID)["Messages"].([]any)
		if len(msgs) != 1 {
			t.Fatalf("Set pushed by the MU: want one reply, got %v", msgs)
		}
		return asString(msgs[0].(map[string]any)["Target"])
	}
	cases := []struct {
		name, target, from, want string
	}{
		{"named by the scheduler: From is the sending process", pid, before, before},
		{"spawned before: From stays the signer", before, pid, mu.Address()},
	}
	check := func() {
		for _, c := range cases {
			if got := replyTo(c.target, c.from); got != c.want {
				t.Fatalf("%s: reply went to %s, want %s", c.name, got, c.want)
			}
		}
	}
	check()
	e.restart() // a CU starting from the store alone trusts the same signers
	check()
	// Only an Authority tag of the spawn's assignment counts: the tag on a message's own item does nothing.
	spoof := e.send(otherUser, before, " ", tag("Action", "Set"), tag("Key", "k"), tag("Value", "v"),
		tag("From-Process", pid), tag("Authority", otherUser.Address()))
	msgs, _ := e.result(before, spoof.ID)["Messages"].([]any)
	if got := asString(msgs[0].(map[string]any)["Target"]); got != otherUser.Address() {
		t.Fatalf("an Authority tag on a message must not make its signer trusted: reply went to %s", got)
	}
}

func TestWithSchedulerAuthorities(t *testing.T) {
	a := func(v string) bundler.Tag { return bundler.Tag{Name: "Authority", Value: v} }
	other := bundler.Tag{Name: "Name", Value: "x"}
	asg := &bundler.Item{Tags: []bundler.Tag{{Name: "Process", Value: "p"}, a("MU")}}
	cases := []struct {
		name  string
		spawn []bundler.Tag
		asg   *bundler.Item
		want  []bundler.Tag
	}{
		{"no assignment", []bundler.Tag{other}, nil, []bundler.Tag{other}},
		{"added after the spawn's tags", []bundler.Tag{other, a("X")}, asg, []bundler.Tag{other, a("X"), a("MU")}},
		{"already named by the spawn", []bundler.Tag{a("MU")}, asg, []bundler.Tag{a("MU")}},
		{"assignment without one", []bundler.Tag{other}, &bundler.Item{Tags: []bundler.Tag{{Name: "Nonce", Value: "0"}}}, []bundler.Tag{other}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spawn := append(make([]bundler.Tag, 0, len(c.spawn)+4), c.spawn...) // spare capacity must stay unused
			got := withSchedulerAuthorities(spawn, c.asg)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
			if s := spawn[:cap(spawn)]; len(c.spawn) < cap(spawn) && s[len(c.spawn)].Name != "" {
				t.Fatalf("the spawn's tag array was written into: %v", s)
			}
		})
	}
}

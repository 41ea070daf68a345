package aos

import "testing"

// pairs() over _G and the libraries gives the same order in every VM (gopher-lua registers them from Go maps,
// whose order is random per run), and string methods still work through the rebuilt string table.
func TestGlobalsIterateInOneOrder(t *testing.T) {
	code := `local out = { ("x"):upper(), string.format("%d", 7), math.floor(2.5), tostring(getmetatable("").__index == string) }
for _, lib in ipairs({ "_G", "string", "math", "table", "coroutine", "utf8", "package", "strmt" }) do
  local t = lib == "_G" and _G or lib == "strmt" and getmetatable("") or _G[lib]
  for k in pairs(t) do out[#out + 1] = lib .. "." .. tostring(k) end
end
return table.concat(out, " ")`
	var first string
	for i := range 6 {
		p, err := New(Env{Process: ProcessInfo{Id: "P", Owner: "O"}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r := p.Handle(Message{Id: "P", Owner: "O", From: "O", Target: "P", Tags: []Tag{{"Type", "Process"}}}); r.Error != "" {
			t.Fatal(r.Error)
		}
		r := p.Handle(Message{Id: "E", Owner: "O", From: "O", Target: "P", Data: code, Tags: []Tag{{"Action", "Eval"}}})
		if r.Error != "" {
			t.Fatal(r.Error)
		}
		got := r.Output.Data
		if i == 0 {
			first = got
			if len(got) < 200 || got[:11] != "X 7 2 true " {
				t.Fatalf("listing: %.80q", got)
			}
		} else if got != first {
			t.Fatalf("VM %d iterates globals in another order", i)
		}
		p.Close()
	}
}

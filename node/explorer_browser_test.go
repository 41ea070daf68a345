package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aonode/aonode/bundler"
)

// chromium finds a Chromium to drive. Without one the browser test is skipped, unless
// AONODE_REQUIRE_BROWSER=1 (scripts/test.sh sets it, and installs Debian's chromium when missing).
func chromium(t *testing.T) string {
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("AONODE_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found (apt-get install -y chromium), and AONODE_REQUIRE_BROWSER=1")
	}
	t.Skip("no Chromium found; set AONODE_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// browser starts a headless Chromium with a fresh profile; the returned context drives one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// waitFor polls a JavaScript condition in the page until it holds (10 s at most).
func waitFor(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return err
	})
}

func pageHas(text string) string {
	return fmt.Sprintf("document.body.innerText.includes(%q)", text)
}

// TestExplorerInABrowser drives the explorer in headless Chromium through the tutorial's process: the pages
// load, show the Set's result and the failed Set's error, the console dry-runs Get, a message sent while the
// process page is open appears without a reload, and a bad id gets the error page. With
// AONODE_SCREENSHOTS=<dir> it saves the main pages there (docs/ holds the README's).
func TestExplorerInABrowser(t *testing.T) {
	ctx := browser(t)
	n := startNode(t, t.TempDir())
	defer n.Close()
	p, status, _ := n.post("", "", tg("Name", "kv-tutorial"))
	if status != 202 {
		t.Fatalf("spawn: %d", status)
	}
	pid := p.ID
	send := func(data string, tags ...bundler.Tag) string {
		it, status, out := n.post(data, pid, tags...)
		if status != 202 {
			t.Fatalf("post: %d %v", status, out)
		}
		return it.ID
	}
	eval := send(kvStore, tg("Action", "Eval"))
	set := send(" ", tg("Action", "Set"), tg("Key", "test"), tg("Value", "abc"))
	bad := send(" ", tg("Action", "Set"), tg("Key", "nope"))
	for _, id := range []string{eval, set, bad} {
		n.result(pid, id)
	}
	base := "http://" + n.cfg.Explorer.Listen
	shots := os.Getenv("AONODE_SCREENSHOTS")
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if shots == "" {
				return nil
			}
			png, err := chromedp.FullScreenshot(100)(ctx, t)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "explorer-"+name+".png"), png, 0o644)
		})
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText + "\n#progress: " + (document.getElementById('progress') || {}).innerHTML : ""`))
			t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
		}
	}

	run("overview",
		chromedp.Navigate(base+"/"),
		waitFor(pageHas("This node")), waitFor(pageHas("kv-tutorial")), waitFor(pageHas(n.info.Module)),
		shot("overview"))

	run("process page: the Set's result and the failed Set's error",
		chromedp.Navigate(base+"/process/"+pid),
		waitFor(pageHas("Value stored!")),
		waitFor(`[...document.querySelectorAll('tr.entry.failed .error')].some(e => e.innerText.includes('Value is required!'))`),
		shot("process"))

	run("console: a dry-run of Get",
		chromedp.Click(chromedp.CSS(`input[name=mode][value=message]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=action]`), "Get"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=tags]`), "Key=test"),
		chromedp.Click(chromedp.CSS(`#console button`)),
		waitFor(`document.getElementById('console-out').innerText.includes('abc')`))

	run("console: a Lua expression, its Output coloured",
		chromedp.Click(chromedp.CSS(`input[name=mode][value=lua]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=code]`), "Store"),
		chromedp.Click(chromedp.CSS(`#console button`)),
		waitFor(`(() => { const o = document.querySelector('#console-out .output'); return o && o.innerText.includes('abc') && o.querySelector('[class^=ansi-]') })()`),
		shot("console"))

	// Live: a message sent while the page is open appears (and gets its result) without a reload.
	run("mark the page", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.__sameLoad = true`)(ctx, t)
		return err
	}))
	live := send(" ", tg("Action", "Set"), tg("Key", "live"), tg("Value", "update"))
	run("live update",
		waitFor(fmt.Sprintf(`(() => { const r = document.querySelector('#schedule tbody tr'); return r && r.innerText.includes(%q) && r.innerText.includes('Value stored!') })()`, live[:6])),
		waitFor(`window.__sameLoad === true`),
		waitFor(`document.getElementById('head-nonce').innerText === '4'`))

	// Work on the process (a CU rebuilding it reports here, see cu.Config.Progress) shows on its page as it goes.
	job := n.Progress.Start("evaluate", pid, "evaluating", "messages", 100_000)
	job.Set(40_000)
	run("progress of a rebuild",
		waitFor(`document.getElementById('progress').innerText.includes('evaluating 40,000/100,000 messages (40%)')`),
		waitFor(`parseFloat(document.querySelector('#progress .bar div').style.width) === 40`),
		shot("progress"))
	job.End()
	run("the rebuild ended", waitFor(`document.getElementById('progress').innerText === ''`))

	run("message page",
		chromedp.Navigate(base+"/message/"+bad+"?process="+pid),
		waitFor(pageHas("Value is required!")), waitFor(pageHas("Assignment")),
		chromedp.Navigate(base+"/message/"+set+"?process="+pid),
		waitFor(pageHas("Value stored!")), waitFor(pageHas("Caused")),
		shot("message"))

	run("uploads", chromedp.Navigate(base+"/uploads?status=all"), waitFor(pageHas("Upload queue")), shot("uploads"))

	run("a bad id",
		chromedp.Navigate(base+"/process/not-a-process"),
		waitFor(pageHas("is not a process id")),
		chromedp.Navigate(base+"/process/"+strings.Repeat("A", 43)),
		waitFor(pageHas("404")), waitFor(pageHas("not held by this node")),
		shot("error"))
}

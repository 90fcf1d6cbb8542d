package webapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/geocommuns/geocommuns/server/servetest"
)

// Debian's chromium, driven over the DevTools protocol: what a reviewer's
// browser does, keys and all, against the pages' promises in doc.go.

const chromiumPath = "/usr/bin/chromium"

// pageTimeout bounds one step in the browser (a page to load, a state to
// show); far above what each takes.
const pageTimeout = 30 * time.Second

// browser is one chromium process; each tab runs in a browser context of
// its own (its own cookies), as two people on two machines would.
type browser struct {
	t        *testing.T
	root     context.Context
	language string
	mu       sync.Mutex
	console  []string
}

// startBrowser starts headless chromium whose language is language
// (en-US, fr-FR): its UI language, navigator.languages and
// Accept-Language. A missing chromium skips the test outside CI.
func startBrowser(t *testing.T, language string) *browser {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	servetest.RequireTool(t, "Debian's chromium", "apt-get install chromium, as scripts/setup does", err)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		// Without it headless chromium draws no WebGL, and MapLibre's map
		// stays silently empty (design.md).
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("lang", language),
		chromedp.Flag("accept-lang", language),
		chromedp.WindowSize(1280, 900),
	)
	b := &browser{t: t, language: language}
	root, cancelRoot := chromedp.NewContext(alloc, chromedp.WithLogf(b.record))
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
		if t.Failed() {
			b.mu.Lock()
			t.Logf("browser console:\n%s", strings.Join(b.console, "\n"))
			b.mu.Unlock()
		}
	})
	if err := chromedp.Do(root); err != nil {
		servetest.RequireTool(t, "a working chromium", "apt-get install chromium", fmt.Errorf("start %s: %w", chromiumPath, err))
	}
	b.root = root
	return b
}

// record keeps a line for the log shown when the test fails; the
// browser's goroutines may call it after the test's own have returned.
func (b *browser) record(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, fmt.Sprintf(format, args...))
}

// cspListener reports the page's Content-Security-Policy violations.
const cspListener = `document.addEventListener('securitypolicyviolation', e =>
  console.error('CSP violation: ' + e.effectiveDirective + ' refused ' + e.blockedURI + ' (' + e.sourceFile + ':' + e.lineNumber + ')'));`

// cspViolations returns the violations the browser's tabs reported.
func (b *browser) cspViolations() []string {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var found []string
	for _, line := range b.console {
		if strings.Contains(line, "CSP violation:") {
			found = append(found, line)
		}
	}
	return found
}

// tab is one tab of the browser, for one person.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// newTab opens a tab in a fresh browser context (no cookies), in the
// browser's language, and records its console.
func (b *browser) newTab(who string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.t.Fatalf("open a tab for %s: %v", who, err)
	}
	// Chromium's --lang sets the UI language; the override makes
	// navigator.languages and Accept-Language say the same whatever the
	// platform's locale.
	userAgent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		b.t.Fatalf("read the user agent: %v", err)
	}
	primary, _, _ := strings.Cut(b.language, "-")
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: userAgent, AcceptLanguage: b.language + "," + primary,
	}); err != nil {
		b.t.Fatalf("set the language of %s's tab: %v", who, err)
	}
	// Each Content-Security-Policy violation goes to the console, where
	// cspViolations finds it: a policy that blocks what the app needs
	// leaves a page quietly broken.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener}); err != nil {
		b.t.Fatalf("listen for CSP violations in %s's tab: %v", who, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.record("%s's tab: %s", who, m)
		}
	}()
	return &tab{t: b.t, ctx: ctx}
}

// do runs steps, each page step bounded by pageTimeout; what failed says
// what the test was doing.
func (tb *tab) do(doing string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v", doing, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](tb *tab, expression string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// signIn opens the queue at base and signs in with the form.
func (tb *tab) signIn(base, user, password string) {
	tb.t.Helper()
	tb.do("sign in as "+user,
		chromedp.Navigate(base+"/review/#/queue"),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), user),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
}

// queueRows waits for the queue to list changeset id and returns the ids
// of its rows, in their order.
func (tb *tab) queueRows(id int64) []string {
	tb.t.Helper()
	tb.do(fmt.Sprintf("wait for changeset %d in the queue", id),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-changeset="%d"]`, id))))
	return eval[[]string](tb, `[...document.querySelectorAll('tr[data-changeset]')].map(r => r.dataset.changeset)`)
}

// selectedRowJS names the row the keyboard selected. doc.go promises that
// j/k move a selection but not how it shows: the focused row, or one
// marked aria-selected or with the class "selected".
const selectedRowJS = `(() => {
  const rows = [...document.querySelectorAll('tr[data-changeset]')];
  const active = document.activeElement;
  const row = rows.find(r => r === active || (active && r.contains(active) && active !== document.body)) ||
    rows.find(r => r.getAttribute('aria-selected') === 'true' || r.classList.contains('selected'));
  return row ? row.dataset.changeset : '';
})()`

// openWithKeyboard moves the queue's selection with j to changeset id
// and opens it with Enter.
func (tb *tab) openWithKeyboard(id int64) {
	tb.t.Helper()
	rows := tb.queueRows(id)
	want := fmt.Sprint(id)
	var path []string
	for range len(rows) + 1 {
		selected := eval[string](tb, selectedRowJS)
		path = append(path, selected)
		if selected == want {
			break
		}
		tb.do("press j in the queue", chromedp.KeyEvent("j"))
	}
	if path[len(path)-1] != want {
		tb.t.Fatalf("pressing j in the queue %v selected %q in turn, never changeset %d", rows, path, id)
	}
	tb.do(fmt.Sprintf("open changeset %d with Enter", id), chromedp.KeyEvent("\r"))
	if hash := tb.waitHash(fmt.Sprintf("#/changeset/%d", id)); hash != "" {
		tb.t.Fatalf("Enter on the selected row of changeset %d went to %q, not #/changeset/%d", id, hash, id)
	}
}

// waitHash waits until the page's location hash is want; it returns ""
// then, or the hash it stayed at.
func (tb *tab) waitHash(want string) string {
	tb.t.Helper()
	deadline := time.Now().Add(pageTimeout)
	for {
		hash := eval[string](tb, `location.hash`)
		if hash == want {
			return ""
		}
		if time.Now().After(deadline) {
			return hash
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMapReady waits for <body data-map-ready="true">: the map's first
// idle after loading the changeset's data.
func (tb *tab) waitMapReady() {
	tb.t.Helper()
	tb.do("wait for body[data-map-ready=true]", chromedp.WaitReady(chromedp.CSS(`body[data-map-ready="true"]`)))
}

// drawnLayers are the keys (properties.key) of the features MapLibre drew
// in each of the changeset's layers, asked of the map itself
// (queryRenderedFeatures): a layer name without its -line, -fill or
// -point suffix gathers its sublayers.
const drawnLayersJS = `(() => {
  const map = window.geocommunsReview && window.geocommunsReview.map;
  if (!map) throw new Error('window.geocommunsReview.map is not set');
  const name = /^(created|modified-old|modified-new|deleted|context)(-line|-fill|-point)?$/;
  const drawn = {};
  for (const layer of map.getStyle().layers) {
    const m = name.exec(layer.id);
    if (!m) continue;
    const keys = new Set(drawn[m[1]] || []);
    for (const f of map.queryRenderedFeatures({layers: [layer.id]})) {
      if (f.properties && f.properties.key) keys.add(f.properties.key);
    }
    drawn[m[1]] = [...keys].sort();
  }
  return drawn;
})()`

func (tb *tab) drawnLayers() map[string][]string {
	tb.t.Helper()
	return eval[map[string][]string](tb, drawnLayersJS)
}

// pageState is the review state #state shows (data-state).
func (tb *tab) pageState() string {
	tb.t.Helper()
	return eval[string](tb, `(() => { const s = document.querySelector('#state'); return s ? (s.dataset.state || '') : ''; })()`)
}

// waitPageState waits until #state shows one of want, and returns it; a
// state outside want and pass fails at once.
func (tb *tab) waitPageState(want []string, pass ...string) string {
	tb.t.Helper()
	deadline := time.Now().Add(pageTimeout)
	for {
		state := tb.pageState()
		switch {
		case slices.Contains(want, state):
			return state
		case state != "" && !slices.Contains(pass, state):
			tb.t.Fatalf("#state shows %q, want %v", state, want)
		case time.Now().After(deadline):
			tb.t.Fatalf("#state still shows %q after %s, want %v", state, pageTimeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// decideWithKeyboard opens the decision dialog with key, types comment in
// #decision-comment (where the dialog put the focus) and sends it with
// Ctrl+Enter.
func (tb *tab) decideWithKeyboard(key, comment string) {
	tb.t.Helper()
	tb.do("press "+key+" to open the decision dialog",
		chromedp.KeyEvent(key),
		chromedp.WaitVisible(chromedp.ID("decision-dialog")),
	)
	if focused := eval[string](tb, `document.activeElement ? document.activeElement.id : ''`); focused != "decision-comment" {
		tb.t.Fatalf("pressing %s opened #decision-dialog with the focus on %q, want #decision-comment", key, focused)
	}
	tb.do("type the comment and send it with Ctrl+Enter",
		chromedp.KeyEvent(comment),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	)
}

// saveScreenshot saves a PNG of the whole page as an artifact, in
// $GEOCOMMUNS_ARTIFACTS or artifacts/ at the repository's root.
func (tb *tab) saveScreenshot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("GEOCOMMUNS_ARTIFACTS")
	if dir == "" {
		// go test runs in the package's directory, two below the root.
		dir = filepath.Join("..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	file, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	tb.t.Logf("screenshot of the changeset page: %s", file)
}

// catalog is a message catalog of web/src/i18n, flattened to dotted keys.
func catalog(t *testing.T, language string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "web", "src", "i18n", language+".json"))
	if err != nil {
		t.Fatalf("read the %s catalog: %v", language, err)
	}
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatalf("the %s catalog: %v", language, err)
	}
	flat := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			flat[prefix] = v
		case map[string]any:
			for k, sub := range v {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, sub)
			}
		}
	}
	walk("", tree)
	return flat
}

// checkPolicyInForce checks that the pages ran under their
// Content-Security-Policy without one violation, then that the policy is
// in force and heard: an image from another origin is refused.
func (b *browser) checkPolicyInForce(tb *tab) {
	tb.t.Helper()
	if v := b.cspViolations(); len(v) > 0 {
		tb.t.Errorf("the pages broke their Content-Security-Policy:\n%s", strings.Join(v, "\n"))
	}
	eval[bool](tb, `(() => { const i = new Image(); i.src = 'http://192.0.2.1/elsewhere.png'; document.body.append(i); return true })()`)
	deadline := time.Now().Add(pageTimeout)
	for {
		for _, v := range b.cspViolations() {
			if strings.Contains(v, "img-src refused http://192.0.2.1/elsewhere.png") {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.t.Errorf("an image from another origin was not refused by the page's Content-Security-Policy")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package reliability_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenkeeper/tokenkeeper/fetcher"
	"github.com/tokenkeeper/tokenkeeper/renewal"
	"github.com/tokenkeeper/tokenkeeper/tokenclient"
)

// The client side never needs the app certificate: only the token server
// (and, in tests, the fake SDK standing in for Agora) holds it. Every rig in
// this package proves it behaviourally — the fetcher, engine and clients
// are built from a URL, an app ID and user IDs, and the fake SDK, which
// verifies each token's signature with the certificate, accepts every token
// they hand it. The tests here prove it structurally.

// clientPackages are the packages an application links to keep a session
// authenticated.
var clientPackages = []string{"tokenclient", "renewal", "fetcher", "signaling"}

// TestClientConfigHasNoCertificate: no configuration or data type of the
// client side has a field for a certificate or another secret key.
func TestClientConfigHasNoCertificate(t *testing.T) {
	for _, v := range []any{tokenclient.Config{}, renewal.Config{}, renewal.SessionConfig{}, renewal.Policy{},
		fetcher.Request{}, fetcher.Token{}, renewal.Event{}, renewal.KeyState{}} {
		checkFields(t, reflect.TypeOf(v), reflect.TypeOf(v).String(), map[reflect.Type]bool{})
	}
}

func checkFields(t *testing.T, typ reflect.Type, path string, seen map[reflect.Type]bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || seen[typ] {
		return
	}
	seen[typ] = true
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := strings.ToLower(f.Name)
		for _, bad := range []string{"cert", "secret", "signingkey", "appkey"} {
			if strings.Contains(name, bad) {
				t.Errorf("%s.%s looks like a place for the app certificate", path, f.Name)
			}
		}
		if f.Type.PkgPath() == "" || strings.HasPrefix(f.Type.PkgPath(), "github.com/tokenkeeper/") {
			checkFields(t, f.Type, path+"."+f.Name, seen)
		}
	}
}

// TestClientCodeNeverSignsOrVerifies: the client packages' sources never
// call accesstoken's certificate functions (Build, BuildLegacy, Verify) and
// never import the mock test kit. The same scan finds such calls in the mock
// package, which signs and verifies on purpose.
func TestClientCodeNeverSignsOrVerifies(t *testing.T) {
	files := 0
	for _, pkg := range clientPackages {
		found, n := certUses(t, pkg)
		files += n
		for _, f := range found {
			t.Errorf("client code needs the certificate or the test kit: %s", f)
		}
	}
	if files < 20 {
		t.Fatalf("scanned only %d files", files)
	}
	if found, _ := certUses(t, "mock"); len(found) == 0 {
		t.Error("the scan finds no certificate use in package mock: it cannot see any")
	}
}

// certUses returns every call of a certificate function, and every import
// of the mock package, in the non-test sources of pkg, and the number of
// files scanned.
func certUses(t *testing.T, pkg string) (found []string, files int) {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sources for %s: %v", pkg, err)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasSuffix(path, "/mock") {
				found = append(found, p+" imports "+path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, isIdent := sel.X.(*ast.Ident)
			if sel.Sel.Name == "Verify" || isIdent && x.Name == "accesstoken" && strings.HasPrefix(sel.Sel.Name, "Build") {
				found = append(found, fset.Position(call.Pos()).String()+": calls "+sel.Sel.Name)
			}
			return true
		})
	}
	return found, files
}

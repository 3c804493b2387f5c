package arch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// modulePath is the path of this module; packages under it are "internal"
// to the module for the purpose of these rules.
const modulePath = "github.com/restake/restake"

// corePackages are the pure, deterministic packages. Every replica of the
// chain runs them on the same blocks and must reach the same state, byte for
// byte, so they and every package of this module they depend on may not
// touch the outside world.
var corePackages = []string{
	modulePath + "/internal/wad",
	modulePath + "/internal/history",
	modulePath + "/internal/ledger",
	modulePath + "/internal/scenario",
	modulePath + "/internal/risk",
	modulePath + "/internal/riskgraph",
	modulePath + "/internal/riskreport",
}

// why is appended to every failure: the reason the rules exist.
const why = "core packages are deterministic consensus code: every replica must compute " +
	"the same state from the same blocks, so the core does no I/O, reads no clock, " +
	"draws no randomness, logs nothing globally and uses no floating point " +
	"(STYLE.md §6 items 1, 3 and 4)"

// forbiddenImports maps each forbidden import path to what it would bring
// into the core. A rule covers the path itself and every package under it
// (os covers os/exec and os/signal, math/rand covers math/rand/v2).
var forbiddenImports = map[string]string{
	"net":                           "network I/O",
	"net/http":                      "network I/O",
	"os":                            "filesystem, environment and process state",
	"os/exec":                       "running other programs",
	"io/ioutil":                     "filesystem I/O",
	"syscall":                       "raw system calls",
	"database/sql":                  "database I/O",
	"math/rand":                     "randomness (take it from the block hash)",
	"math/rand/v2":                  "randomness (take it from the block hash)",
	"crypto/rand":                   "randomness (take it from the block hash)",
	"time":                          "the wall clock (use the block header time)",
	"unsafe":                        "memory-layout-dependent behaviour",
	"log":                           "a global logger with side effects",
	"log/slog":                      "a global logger with side effects",
	"github.com/cockroachdb/pebble": "storage I/O (the core sees state through a narrow interface)",
}

// forbiddenReason returns why importPath is forbidden in the core, or "" when it
// is allowed.
func forbiddenReason(importPath string) string {
	for p := importPath; p != "."; p = path.Dir(p) {
		if r, ok := forbiddenImports[p]; ok {
			return r
		}
	}
	return ""
}

func TestForbiddenReason(t *testing.T) {
	for importPath, want := range map[string]bool{
		"os": true, "os/exec": true, "os/signal": true, "time": true, "math/rand/v2": true,
		"github.com/cockroachdb/pebble/v2": true, "github.com/cockroachdb/pebble/vfs": true,
		"log/slog": true, "net/http/httptest": true,
		"math/big": false, "sort": false, "strings": false, "encoding/json": false,
		"github.com/cockroachdb/pebblex": false, "timex": false, "osmosis": false,
		"github.com/holiman/uint256": false,
	} {
		if got := forbiddenReason(importPath) != ""; got != want {
			t.Errorf("forbiddenReason(%q) forbidden=%v, want %v", importPath, got, want)
		}
	}
}

// listedPackage is the part of `go list -json` output these tests read.
type listedPackage struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Imports        []string
	ImportMap      map[string]string
	Export         string
	Error          *struct{ Err string }
}

// goList runs `go list -e -json` with args and decodes its output.
func goList(t *testing.T, args ...string) []*listedPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the core's imports: %v", err)
	}
	fields := "-json=ImportPath,Dir,GoFiles,CgoFiles,IgnoredGoFiles," +
		"Imports,ImportMap,Export,Error"
	cmd := exec.Command(goTool, append([]string{"list", "-e", fields}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.Bytes())
	}
	var pkgs []*listedPackage
	dec := json.NewDecoder(&stdout)
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, &p)
	}
	return pkgs
}

func isModulePackage(importPath string) bool {
	return importPath == modulePath || strings.HasPrefix(importPath, modulePath+"/")
}

// modulePackages lists the core packages and every package of this module
// they depend on, transitively, with for each the chain of imports from a
// core package that reaches it (for error messages), and the export data
// file of every listed package when extraArgs hold -export. Packages of the
// standard library and of other modules are not followed: their own
// imports are their business, and encoding/json importing reflect or a
// dependency importing os through an unused path is no reason to fail.
func modulePackages(t *testing.T, extraArgs ...string) (
	pkgs []*listedPackage, chain, exports map[string]string,
) {
	t.Helper()
	all := goList(t, append(append([]string{"-deps"}, extraArgs...), corePackages...)...)
	byPath := make(map[string]*listedPackage)
	exports = make(map[string]string)
	for _, p := range all {
		byPath[p.ImportPath] = p
		exports[p.ImportPath] = p.Export
	}
	chain = make(map[string]string)
	var queue []string
	for _, c := range corePackages {
		if byPath[c] == nil {
			t.Fatalf("core package %s is missing from go list output; "+
				"update corePackages if it moved, so that the rules keep applying", c)
		}
		chain[c] = c
		queue = append(queue, c)
	}
	for len(queue) > 0 {
		p := byPath[queue[0]]
		queue = queue[1:]
		if p.Error != nil {
			t.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
		for _, imp := range p.Imports {
			if !isModulePackage(imp) {
				continue
			}
			if _, seen := chain[imp]; seen {
				continue
			}
			if byPath[imp] == nil {
				t.Fatalf("package %s imports %s, which go list did not report", p.ImportPath, imp)
			}
			chain[imp] = chain[p.ImportPath] + " -> " + imp
			queue = append(queue, imp)
		}
	}
	slices.SortFunc(pkgs, func(a, b *listedPackage) int {
		return strings.Compare(a.ImportPath, b.ImportPath)
	})
	return pkgs, chain, exports
}

// sourceFiles returns the non-test .go files of p, including those that
// build constraints exclude on this platform: a file that only builds on
// another platform would still make that platform's replicas diverge.
func sourceFiles(p *listedPackage) []string {
	var files []string
	for _, list := range [][]string{p.GoFiles, p.CgoFiles, p.IgnoredGoFiles} {
		for _, f := range list {
			if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") {
				files = append(files, filepath.Join(p.Dir, f))
			}
		}
	}
	slices.Sort(files)
	return files
}

// TestCoreImports checks the direct imports of the core packages and of
// every package of this module they depend on.
func TestCoreImports(t *testing.T) {
	pkgs, chain, _ := modulePackages(t)
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			if r := forbiddenReason(imp); r != "" {
				t.Errorf("package %s (reached as %s) imports %q, forbidden in the core for %s; %s",
					p.ImportPath, chain[p.ImportPath], imp, r, why)
			}
		}
		// Files excluded by build constraints here are not in Imports.
		fset := token.NewFileSet()
		for _, f := range p.IgnoredGoFiles {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			name := filepath.Join(p.Dir, f)
			file, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
			if err != nil {
				t.Errorf("parsing %s: %v", name, err)
				continue
			}
			for _, spec := range file.Imports {
				imp := strings.Trim(spec.Path.Value, "`\"")
				if r := forbiddenReason(imp); r != "" {
					t.Errorf("%s (package %s, excluded by build constraints on this platform) imports %q, "+
						"forbidden in the core for %s; %s", fset.Position(spec.Pos()), p.ImportPath, imp, r, why)
				}
			}
		}
	}
}

// clockSelectors are the time functions that read the wall clock.
var clockSelectors = map[string]bool{"Now": true, "Since": true, "Until": true}

// floatTypeNames are the predeclared floating-point types.
var floatTypeNames = map[string]bool{
	"float32": true, "float64": true, "complex64": true, "complex128": true,
}

// checkSyntax reports, without type information, the uses of floating
// point and of the wall clock in one parsed file.
func checkSyntax(t *testing.T, fset *token.FileSet, pkg string, file *ast.File) {
	t.Helper()
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if floatTypeNames[n.Name] {
				t.Errorf("%s (package %s): uses %s; floating-point results can differ across "+
					"CPUs and compilers, so money and ratios are fixed-point integers; %s",
					fset.Position(n.Pos()), pkg, n.Name, why)
			}
		case *ast.BasicLit:
			switch n.Kind {
			case token.IMAG:
				t.Errorf("%s (package %s): imaginary literal %s; %s", fset.Position(n.Pos()), pkg, n.Value, why)
			case token.FLOAT:
				// 1e18 is spelled like a float but is an exact integer
				// constant (const Unit uint64 = 1e18); it is allowed here, and
				// the type check below fails it if it ever becomes a float
				// value. A literal with a fractional value is always a float.
				v := constant.MakeFromLiteral(n.Value, token.FLOAT, 0)
				if constant.ToInt(v).Kind() != constant.Int {
					t.Errorf("%s (package %s): floating-point literal %s; use a fixed-point "+
						"integer with a declared scale; %s", fset.Position(n.Pos()), pkg, n.Value, why)
				}
			}
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && x.Name == "time" && clockSelectors[n.Sel.Name] {
				t.Errorf("%s (package %s): time.%s reads the wall clock, which differs between "+
					"replicas; use the block header time; %s", fset.Position(n.Pos()), pkg, n.Sel.Name, why)
			}
		}
		return true
	})
}

// TestCoreSource parses the non-test files of the core (and of the module
// packages it depends on) and fails on floating-point types and literals
// and on reads of the wall clock.
func TestCoreSource(t *testing.T) {
	pkgs, _, _ := modulePackages(t)
	fset := token.NewFileSet()
	for _, p := range pkgs {
		files := sourceFiles(p)
		if len(files) == 0 {
			t.Errorf("package %s has no source files to check", p.ImportPath)
		}
		for _, name := range files {
			file, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Errorf("parsing %s: %v", name, err)
				continue
			}
			checkSyntax(t, fset, p.ImportPath, file)
		}
	}
}

// TestCoreHasNoFloatValues type-checks the core and fails on any expression
// of a floating-point or complex type. It closes the gap the syntactic check
// leaves open on purpose: x := 1e18 makes a float64 without naming one, and
// so does a call such as math.Sqrt.
func TestCoreHasNoFloatValues(t *testing.T) {
	pkgs, _, exports := modulePackages(t, "-export")
	for _, p := range pkgs {
		fset := token.NewFileSet()
		var files []*ast.File
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parsing %s: %v", f, err)
			}
			files = append(files, file)
		}
		lookup := func(importPath string) (io.ReadCloser, error) {
			if mapped, ok := p.ImportMap[importPath]; ok {
				importPath = mapped
			}
			export := exports[importPath]
			if export == "" {
				return nil, fmt.Errorf("no export data for %s", importPath)
			}
			return os.Open(export)
		}
		conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
		info := &types.Info{Types: make(map[ast.Expr]types.TypeAndValue)}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Errorf("type-checking %s: %v", p.ImportPath, err)
			continue
		}
		var found []string
		for expr, tv := range info.Types {
			if !tv.IsValue() {
				continue
			}
			b, ok := tv.Type.Underlying().(*types.Basic)
			if !ok || b.Info()&(types.IsFloat|types.IsComplex) == 0 || b.Info()&types.IsUntyped != 0 {
				continue
			}
			found = append(found, fmt.Sprintf("%s (package %s): expression of type %s; "+
				"floating-point results can differ across CPUs and compilers; %s",
				fset.Position(expr.Pos()), p.ImportPath, tv.Type, why))
		}
		slices.Sort(found) // info.Types is a map: report in a stable order
		for _, f := range found {
			t.Error(f)
		}
	}
}

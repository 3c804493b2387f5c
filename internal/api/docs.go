package api

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/restake/restake/internal/ledger"
)

// The /docs page is rendered once, at startup, from the OpenAPI document.
// It is self-contained (inline style, no script, font or CDN) so that it
// works on an air-gapped node and leaks no visit to a third party, which
// huma's default page (Stoplight Elements from a CDN) would.

type docsPage struct {
	Title, Version, Description string
	Groups                      []docsGroup
	Schemas                     []docsSchema
	Errors                      []docsError
}

type docsGroup struct {
	Name, Description string
	Ops               []docsOp
}

type docsOp struct {
	ID, Method, Path, Summary, Description string
	Params                                 []docsField
	Body                                   *docsResponse // the request body, when there is one
	Responses                              []docsResponse
}

// docsField is a parameter or a schema's property. Ref names the schema
// its type links to, if any.
type docsField struct {
	Name, In, Type, Ref, Description string
	Required                         bool
}

type docsResponse struct {
	Status, Description, ContentType, Type, Ref string
}

type docsSchema struct {
	Name, Description string
	Fields            []docsField
}

type docsError struct {
	Name   string
	Status int
	Source string
}

// renderDocs renders the page of an OpenAPI document.
func renderDocs(doc *huma.OpenAPI) []byte {
	page := docsPage{Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description}
	byTag := map[string][]docsOp{}
	for _, p := range sortedKeys(doc.Paths) {
		item := doc.Paths[p]
		for _, mo := range []struct {
			method string
			op     *huma.Operation
		}{{"GET", item.Get}, {"POST", item.Post}, {"PUT", item.Put}, {"DELETE", item.Delete}} {
			if mo.op == nil {
				continue
			}
			tag := "other"
			if len(mo.op.Tags) > 0 {
				tag = mo.op.Tags[0]
			}
			byTag[tag] = append(byTag[tag], docsOperation(mo.method, p, mo.op))
		}
	}
	for _, t := range doc.Tags {
		if ops := byTag[t.Name]; len(ops) > 0 {
			page.Groups = append(page.Groups, docsGroup{Name: t.Name, Description: t.Description, Ops: ops})
			delete(byTag, t.Name)
		}
	}
	for _, name := range sortedKeys(byTag) {
		page.Groups = append(page.Groups, docsGroup{Name: name, Ops: byTag[name]})
	}
	schemas := doc.Components.Schemas.Map()
	for _, name := range sortedKeys(schemas) {
		page.Schemas = append(page.Schemas, docsSchemaOf(name, schemas[name]))
	}
	page.Errors = docsErrors()
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		// The template and its data are this package's own; a failure is
		// a programming error caught by the tests.
		panic(fmt.Sprintf("api: render /docs: %v", err))
	}
	return buf.Bytes()
}

func docsOperation(method, p string, op *huma.Operation) docsOp {
	d := docsOp{ID: op.OperationID, Method: method, Path: p, Summary: op.Summary, Description: op.Description}
	for _, prm := range op.Parameters {
		d.Params = append(d.Params, docsField{Name: prm.Name, In: prm.In, Type: schemaType(prm.Schema),
			Ref: schemaRef(prm.Schema), Description: prm.Description, Required: prm.Required})
	}
	if op.RequestBody != nil {
		for _, ct := range sortedKeys(op.RequestBody.Content) {
			sc := op.RequestBody.Content[ct].Schema
			d.Body = &docsResponse{ContentType: ct, Type: schemaType(sc), Ref: schemaRef(sc)}
		}
	}
	for _, status := range sortedKeys(op.Responses) {
		r := op.Responses[status]
		dr := docsResponse{Status: status, Description: r.Description}
		for _, ct := range sortedKeys(r.Content) {
			sc := r.Content[ct].Schema
			dr.ContentType, dr.Type, dr.Ref = ct, schemaType(sc), schemaRef(sc)
		}
		d.Responses = append(d.Responses, dr)
	}
	return d
}

func docsSchemaOf(name string, s *huma.Schema) docsSchema {
	d := docsSchema{Name: name, Description: s.Description}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, prop := range sortedKeys(s.Properties) {
		ps := s.Properties[prop]
		d.Fields = append(d.Fields, docsField{Name: prop, Type: schemaType(ps), Ref: schemaRef(ps),
			Description: ps.Description, Required: required[prop]})
	}
	return d
}

// docsErrors lists every stable error name: the API's own, then the
// ledger's that the API can return at intake.
func docsErrors() []docsError {
	var out []docsError
	for _, name := range sortedKeys(ErrorNames) {
		out = append(out, docsError{Name: name, Status: ErrorNames[name], Source: "API"})
	}
	for _, e := range []*ledger.Error{ledger.ErrTxMalformed, ledger.ErrTxTooLarge, ledger.ErrWrongChainID,
		ledger.ErrInvalidSignature, ledger.ErrNonceTooLow, ledger.ErrNonceTooHigh, ledger.ErrTxAlreadyKnown,
		ledger.ErrMempoolFull, ledger.ErrInvalidName} {
		out = append(out, docsError{Name: e.Name, Status: ledgerStatus(e.Name), Source: "ledger: " + e.Hint})
	}
	return out
}

// schemaType names a schema for people: a component's name, or the type
// with its item type for arrays.
func schemaType(s *huma.Schema) string {
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		return path.Base(s.Ref)
	case s.Type == "array":
		return "array of " + schemaType(s.Items)
	case s.Type == "":
		return "any"
	case s.Format != "":
		return s.Type + " (" + s.Format + ")"
	}
	return s.Type
}

// schemaRef returns the component a schema (or its items) refers to, for
// a link; "" for plain types.
func schemaRef(s *huma.Schema) string {
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		return path.Base(s.Ref)
	case s.Type == "array":
		return schemaRef(s.Items)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var docsTemplate = template.Must(template.New("docs").Funcs(template.FuncMap{
	"lower":      strings.ToLower,
	"statusText": http.StatusText,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:70em;padding:1em 2em;color:#1d2330}
h1{margin-bottom:0}h2{border-bottom:2px solid #d0d5e0;margin-top:2em}
code,pre,.path{font-family:ui-monospace,monospace}
.op{border:1px solid #d0d5e0;border-radius:6px;margin:1em 0;padding:.6em 1em}
.method{display:inline-block;min-width:4em;font-weight:bold;border-radius:4px;padding:0 .4em;
color:#fff;text-align:center}
.get{background:#2f6fd0}.post{background:#1f9d55}.put{background:#b7791f}.delete{background:#c53030}
.path{font-weight:bold;margin-left:.5em}.summary{color:#4a5568;margin-left:.5em}
table{border-collapse:collapse;margin:.4em 0;width:100%}
td,th{border-bottom:1px solid #e2e8f0;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f4f6fa}.req{color:#c53030}nav a{margin-right:1em}
</style></head><body>
<h1>{{.Title}}</h1><p>Version {{.Version}}</p><p>{{.Description}}</p>
<nav>{{range .Groups}}<a href="#tag-{{.Name}}">{{.Name}}</a>{{end}}<a href="#errors">errors</a>
<a href="#schemas">schemas</a><a href="/openapi.json">openapi.json</a></nav>
{{range .Groups}}<h2 id="tag-{{.Name}}">{{.Name}}</h2><p>{{.Description}}</p>
{{range .Ops}}<div class="op" id="op-{{.ID}}">
<div><span class="method {{lower .Method}}">{{.Method}}</span><span class="path">{{.Path}}</span>
<span class="summary">{{.Summary}}</span></div>
<p>{{.Description}}</p>
{{if .Params}}<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td>
<td>{{.In}}</td><td>{{template "type" .}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{with .Body}}<p>Request body: {{template "type" .}} <small>{{.ContentType}}</small></p>{{end}}
<table><tr><th>Status</th><th>Body</th><th>Description</th></tr>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{template "type" .}}
<small>{{.ContentType}}</small></td><td>{{.Description}}</td></tr>{{end}}</table>
</div>{{end}}{{end}}
<h2 id="errors">Errors</h2>
<p>Every error response is <code>{"error":"&lt;StableName&gt;","message":"&lt;what to do&gt;","status":&lt;code&gt;}</code>.
Match on the name. Committed transactions that the ledger rejected carry the ledger's names
(for example WithdrawerNotCaller) in their result's <code>error</code> field.</p>
<table><tr><th>Name</th><th>Status</th><th>Source</th></tr>
{{range .Errors}}<tr><td><code>{{.Name}}</code></td><td>{{.Status}} {{statusText .Status}}</td><td>{{.Source}}</td></tr>{{end}}
</table>
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<div class="op" id="schema-{{.Name}}"><b>{{.Name}}</b> {{.Description}}
{{if .Fields}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td>
<td>{{template "type" .}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}</div>{{end}}
</body></html>
{{define "type"}}{{if .Ref}}<a href="#schema-{{.Ref}}">{{.Type}}</a>{{else}}{{.Type}}{{end}}{{end}}`))

// Gofacts asks Go's own type checker (go/types, with the gc compiler's sizes for each GOARCH)
// for constants and struct layouts of GOROOT's packages, as the compiler sees them when it
// builds for that architecture. tests/test_arch_tables.py compares them with the port's tables,
// which scripts/gen_go_tables.py reads from the same sources as text.
//
// Input (stdin, JSON): {"goroot": ..., "arches": [...], "packages": {"syscall": {"consts": [...],
// "structs": [...]}, ...}}. Output (stdout, JSON): {arch: {package: {"consts": {name: value},
// "structs": {name: {"size": n, "fields": {field: [offset, size]}}}}}}. A package path may name a
// directory under GOROOT/src (cmd/vendor/golang.org/x/sys/unix). A missing name is left out.
package main

import (
	"encoding/json"
	"fmt"
	"go/build"
	"go/importer"
	"go/token"
	"go/types"
	"os"
)

type request struct {
	Goroot   string
	Arches   []string
	Packages map[string]struct{ Consts, Structs []string }
}

type layout struct {
	Size   int64               `json:"size"`
	Fields map[string][2]int64 `json:"fields"`
}

type facts struct {
	Consts  map[string]string  `json:"consts"`
	Structs map[string]layout `json:"structs"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "gofacts:", err)
		os.Exit(2)
	}
	out := map[string]map[string]facts{}
	for _, arch := range req.Arches {
		ctxt := build.Default
		ctxt.GOROOT, ctxt.GOOS, ctxt.GOARCH, ctxt.CgoEnabled = req.Goroot, "linux", arch, false
		build.Default = ctxt // the source importer reads build.Default
		sizes := types.SizesFor("gc", arch)
		imp := importer.ForCompiler(token.NewFileSet(), "source", nil).(types.ImporterFrom)
		out[arch] = map[string]facts{}
		for path, want := range req.Packages {
			pkg, err := imp.ImportFrom(path, req.Goroot+"/src/cmd", 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "gofacts:", arch, path, err)
				os.Exit(1)
			}
			f := facts{map[string]string{}, map[string]layout{}}
			for _, name := range want.Consts {
				if c, ok := pkg.Scope().Lookup(name).(*types.Const); ok {
					f.Consts[name] = c.Val().ExactString()
				}
			}
			for _, name := range want.Structs {
				obj := pkg.Scope().Lookup(name)
				if obj == nil {
					continue
				}
				st := obj.Type().Underlying().(*types.Struct)
				vars := make([]*types.Var, st.NumFields())
				for i := range vars {
					vars[i] = st.Field(i)
				}
				l := layout{sizes.Sizeof(st), map[string][2]int64{}}
				for i, off := range sizes.Offsetsof(vars) {
					l.Fields[vars[i].Name()] = [2]int64{off, sizes.Sizeof(vars[i].Type())}
				}
				f.Structs[name] = l
			}
			out[arch][path] = f
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

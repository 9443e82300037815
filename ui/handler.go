package ui

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// reservedRoots belong to the server, never to the UI: a mistyped API URL
// must get the API's JSON 404, not the dashboard's HTML.
var reservedRoots = []string{"/api", "/metrics", "/health"}

func isReserved(p string) bool {
	for _, root := range reservedRoots {
		if p == root || strings.HasPrefix(p, root+"/") {
			return true
		}
	}
	return false
}

// assetExts are what the build emits. Only these 404 when missing: a group
// id may contain a dot (/groups/sync.v2), and that is still a client route.
var assetExts = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".map": true, ".json": true, ".svg": true,
	".png": true, ".ico": true, ".jpg": true, ".webp": true, ".woff": true, ".woff2": true,
	".txt": true, ".webmanifest": true, ".html": true,
}

func isAsset(name string) bool {
	return strings.HasPrefix(name, "assets/") || assetExts[strings.ToLower(path.Ext(name))]
}

// Handler serves the dashboard from fsys (the root holds index.html).
//
// A path naming a file serves that file; any other path without a file
// extension that does not look like a build asset is a client-side route
// (/groups/x/queue) and gets index.html, so
// deep links and reloads work. A missing asset (a path with an extension)
// (under assets/ or with an asset extension) is a plain 404: answering HTML for a missing .js makes the browser report
// a MIME error instead of the real problem. /api/, /metrics and /health are
// never answered here.
//
// Vite names assets by content hash, so /assets/ may be cached for ever;
// index.html and config.json must be revalidated, or a deploy would keep
// serving old bundle names (or an old apiUrl) from browser caches.
func Handler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if isReserved(p) {
			http.NotFound(w, r)
			return
		}
		name := strings.TrimPrefix(p, "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(fsys, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					w.Header().Set("Cache-Control", "no-cache")
				}
				r2 := r.Clone(r.Context())
				r2.URL.Path = p
				files.ServeHTTP(w, r2)
				return
			}
			if isAsset(name) {
				http.NotFound(w, r)
				return
			}
		}
		serveIndex(w, r, fsys)
	})
}

// serveIndex writes index.html itself: http.FileServer would redirect
// "/index.html" to "/" and list directories.
func serveIndex(w http.ResponseWriter, r *http.Request, fsys fs.FS) {
	b, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		http.Error(w, "the dashboard is not built into this binary (index.html missing)", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

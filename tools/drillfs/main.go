// drillfs: a passthrough FUSE file system for disk fault drills. It mirrors a backing directory at
// a mount point and, when told over a unix-socket HTTP control API, fails reads or writes of
// matching paths with EIO or delays them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var version = "dev"

// rule: what to do with reads/writes of paths (relative to the root) matching Pattern.
type rule struct {
	Pattern string `json:"pattern"`
	Ops     string `json:"ops"`     // "read", "write" or "rw"
	Action  string `json:"action"`  // "eio" or "delay"
	DelayMs int    `json:"delayMs"` // for delay
	re      *regexp.Regexp
}

type faults struct {
	mu    sync.RWMutex
	rules []rule
	hits  map[string]int
}

func (f *faults) match(path, op string) (action string, delay time.Duration) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, r := range f.rules {
		if (r.Ops == "rw" || r.Ops == op) && r.re.MatchString(path) {
			return r.Action, time.Duration(r.DelayMs) * time.Millisecond
		}
	}
	return "", 0
}

func (f *faults) hit(action string) {
	f.mu.Lock()
	f.hits[action]++
	f.mu.Unlock()
}

var state = &faults{hits: map[string]int{}}

type node struct{ fs.LoopbackNode }

func newNode(root *fs.LoopbackRoot, parent *fs.Inode, name string, st *syscall.Stat_t) fs.InodeEmbedder {
	return &node{fs.LoopbackNode{RootData: root}}
}

func (n *node) rel() string { return n.Path(n.Root()) }

var _ = (fs.NodeOpener)((*node)(nil))
var _ = (fs.NodeCreater)((*node)(nil))

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, _, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	// Direct I/O: every read and write reaches this process (no page cache in between), so a
	// fault applies to the next access, not only to pages the kernel has not cached.
	return &file{inner: fh.(*fs.LoopbackFile), path: n.rel()}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	inode, fh, _, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	rel := name
	if p := n.rel(); p != "" {
		rel = p + "/" + name
	}
	return inode, &file{inner: fh.(*fs.LoopbackFile), path: rel}, fuse.FOPEN_DIRECT_IO, 0
}

// file wraps the loopback file without embedding it: an embedded LoopbackFile would offer the
// kernel its fd for FUSE passthrough, and I/O would then bypass the faults.
type file struct {
	inner *fs.LoopbackFile
	path  string
}

func (f *file) apply(op string) syscall.Errno {
	action, delay := state.match(f.path, op)
	switch action {
	case "eio":
		state.hit("eio")
		return syscall.EIO
	case "delay":
		state.hit("delay")
		time.Sleep(delay)
	}
	return 0
}

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if e := f.apply("read"); e != 0 {
		return nil, e
	}
	return f.inner.Read(ctx, buf, off)
}
func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if e := f.apply("write"); e != 0 {
		return 0, e
	}
	return f.inner.Write(ctx, data, off)
}
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if e := f.apply("write"); e != 0 {
		return e
	}
	return f.inner.Fsync(ctx, flags)
}
func (f *file) Release(ctx context.Context) syscall.Errno { return f.inner.Release(ctx) }
func (f *file) Flush(ctx context.Context) syscall.Errno   { return f.inner.Flush(ctx) }
func (f *file) Getattr(ctx context.Context, a *fuse.AttrOut) syscall.Errno {
	return f.inner.Getattr(ctx, a)
}
func (f *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return f.inner.Setattr(ctx, in, out)
}
func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.inner.Lseek(ctx, off, whence)
}
func (f *file) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	if e := f.apply("write"); e != 0 {
		return e
	}
	return f.inner.Allocate(ctx, off, size, mode)
}
func (f *file) Getlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return f.inner.Getlk(ctx, owner, lk, flags, out)
}
func (f *file) Setlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.inner.Setlk(ctx, owner, lk, flags)
}
func (f *file) Setlkw(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.inner.Setlkw(ctx, owner, lk, flags)
}

func control(socket string) error {
	_ = os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/faults", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			var rules []rule
			if err := json.NewDecoder(r.Body).Decode(&rules); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			for i := range rules {
				re, err := regexp.Compile(rules[i].Pattern)
				if err != nil {
					http.Error(w, fmt.Sprintf("rule %d: %v", i, err), 400)
					return
				}
				if rules[i].Ops != "read" && rules[i].Ops != "write" && rules[i].Ops != "rw" || rules[i].Action != "eio" && rules[i].Action != "delay" {
					http.Error(w, fmt.Sprintf("rule %d: ops must be read|write|rw and action eio|delay", i), 400)
					return
				}
				rules[i].re = re
			}
			state.mu.Lock()
			state.rules = rules
			state.mu.Unlock()
			fallthrough
		case http.MethodGet:
			state.mu.RLock()
			defer state.mu.RUnlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"rules": state.rules, "hits": state.hits})
		default:
			http.Error(w, "GET or PUT", 405)
		}
	})
	go func() { _ = http.Serve(l, mux) }()
	return nil
}

func main() {
	backing := flag.String("backing", "", "directory to mirror")
	mountpoint := flag.String("mount", "", "where to mount it")
	socket := flag.String("control", "", "unix socket of the control API")
	name := flag.String("fsname", "drillfs", "the mount's source name (shown in /proc/mounts)")
	showVersion := flag.Bool("version", false, "print the version")
	flag.Parse()
	if *showVersion {
		fmt.Println("drillfs", version)
		return
	}
	if *backing == "" || *mountpoint == "" || *socket == "" {
		log.Fatal("usage: drillfs -backing DIR -mount DIR -control SOCKET [-fsname NAME]")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(*backing, &st); err != nil {
		log.Fatalf("backing %s: %v", *backing, err)
	}
	root := &fs.LoopbackRoot{Path: *backing, Dev: uint64(st.Dev), NewNode: newNode}
	rootNode := newNode(root, nil, "", &st)
	root.RootNode = rootNode
	if err := control(*socket); err != nil {
		log.Fatalf("control socket: %v", err)
	}
	zero := time.Duration(0)
	server, err := fs.Mount(*mountpoint, rootNode, &fs.Options{
		// No attribute or entry cache: PostgreSQL sees file sizes as they are (it extends files).
		AttrTimeout:  &zero,
		EntryTimeout: &zero,
		MountOptions: fuse.MountOptions{
			AllowOther:        true,
			DirectMount:       true,
			DirectMountStrict: true,
			FsName:            *name,
			Name:              "drillfs",
			Options:           []string{"default_permissions"},
			EnableLocks:       true,
		},
	})
	if err != nil {
		log.Fatalf("mount: %v", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = server.Unmount()
	}()
	fmt.Println("ready")
	server.Wait()
}

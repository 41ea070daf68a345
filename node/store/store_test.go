package store

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second process cannot open a store another one holds, and is told so at once.
func TestOpenHeldStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second open: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the second open took %s", took)
	}
}

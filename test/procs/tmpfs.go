package procs

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// ErrNoTmpfs is returned by MountTmpfs where this process may not mount (it needs root, or
// CAP_SYS_ADMIN): callers then run without the size limit.
var ErrNoTmpfs = errors.New("mounting a tmpfs needs root (CAP_SYS_ADMIN)")

// TmpfsAvailable reports, once per process, whether MountTmpfs works here: nil, or why not.
var TmpfsAvailable = sync.OnceValue(func() error {
	dir, remove, err := MkdirTemp("mediastack-tmpfs-probe-*")
	if err != nil {
		return err
	}
	defer func() { _ = remove() }()
	m, err := MountTmpfs(dir, 1)
	if err != nil {
		return err
	}
	return m.Unmount()
})

// Tmpfs is a size-limited tmpfs mounted on a dir, as Lambda's /tmp is a volume of the
// function's ephemeral storage size: a write past it fails with ENOSPC.
type Tmpfs struct {
	Dir  string
	once sync.Once
}

// MountTmpfs mounts a tmpfs of sizeMB on dir (an existing, empty dir), detached by
// Unmount, or by the guardian if this process dies first. The memory it takes is only
// what is written to it.
func MountTmpfs(dir string, sizeMB int) (*Tmpfs, error) {
	if sizeMB <= 0 {
		return nil, fmt.Errorf("tmpfs on %s: size %d MB", dir, sizeMB)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%dm,mode=0700", sizeMB)); err != nil {
		if errors.Is(err, syscall.EPERM) {
			return nil, ErrNoTmpfs
		}
		return nil, fmt.Errorf("tmpfs on %s: %w", dir, err)
	}
	if err := guardMount(dir); err != nil {
		_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		return nil, err
	}
	return &Tmpfs{Dir: dir}, nil
}

// Usage returns the bytes used and the size of the volume.
func (m *Tmpfs) Usage() (used, size uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(m.Dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", m.Dir, err)
	}
	bsize := uint64(st.Bsize) //nolint:gosec // a block size is positive
	return (st.Blocks - st.Bfree) * bsize, st.Blocks * bsize, nil
}

// Fill shrinks the volume to what is used now, so that the next block written fails with
// ENOSPC, as when something else has filled the storage; the files written stay readable.
func (m *Tmpfs) Fill() error {
	var err error
	// The writer may grow between the reading and the remount, which then refuses a size
	// below its use: read again.
	for range 20 {
		var used uint64
		if used, _, err = m.Usage(); err != nil {
			return err
		}
		size := max(used, 4096)
		if err = syscall.Mount("tmpfs", m.Dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d", size)); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("fill tmpfs %s: %w", m.Dir, err)
}

// Unmount detaches the volume (lazily: a process still holding a file there keeps it until
// it closes it). Calling it again does nothing.
func (m *Tmpfs) Unmount() error {
	var err error
	m.once.Do(func() {
		if uerr := syscall.Unmount(m.Dir, syscall.MNT_DETACH); uerr != nil {
			err = fmt.Errorf("unmount %s: %w", m.Dir, uerr)
		}
		err = errors.Join(err, unguardMount(m.Dir))
	})
	return err
}

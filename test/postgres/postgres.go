// Package postgres runs a real PostgreSQL server for tests and for the local cloud: a fresh
// cluster in a temp dir, listening on a free loopback port, bound to this process's lifetime
// through the process guardian (test/procs), so that the server, its data and its socket are
// gone on every exit path.
//
// PostgreSQL refuses to run as root; when this process is root the cluster belongs to the
// `postgres` user and its programs run as that user.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// BinDirEnv overrides where initdb and postgres are looked up.
const BinDirEnv = "MEDIASTACK_PG_BINDIR"

// StartTimeout bounds how long Start waits for the server to accept connections.
const StartTimeout = 60 * time.Second

// superuser is the cluster's bootstrap role; tests get roles and databases of their own.
const superuser = "postgres"

// Server is a running PostgreSQL cluster.
type Server struct {
	Host      string // 127.0.0.1
	Port      int
	SocketDir string
	password  string // of the superuser
	bin       string // where the server's programs are
	cred      *syscall.Credential
	dataDir   string
	mu        sync.Mutex // guards proc across restarts
	proc      *procs.Process
	removeDir func() error
	stopOnce  sync.Once
	stopErr   error
}

// Database is a database with an owner role of its own, as RDS describes one.
type Database struct {
	Host     string
	Port     int
	Name     string
	User     string
	Password string
}

// URL is a connection string for pgx and libpq.
func (d Database) URL() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(d.User, d.Password),
		Host:     net.JoinHostPort(d.Host, strconv.Itoa(d.Port)),
		Path:     "/" + d.Name,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// binDir finds the newest server installation: PostgreSQL's Debian layout keeps one
// directory per major version, other systems put the programs in PATH.
func binDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(matches) > 0 {
		sort.Slice(matches, func(i, j int) bool { return majorOf(matches[i]) > majorOf(matches[j]) })
		return filepath.Dir(matches[0]), nil
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server found: install it (apt-get install -y postgresql-15) or set " + BinDirEnv)
}

func majorOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// runAs says which account runs the server: nil for this process's own.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged account: %w (apt-get install -y postgresql-15 creates the postgres user)", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil //nolint:gosec // the postgres account's uid and gid, from the system
}

// Start initialises a cluster in a guarded temp dir and starts the server on a free port.
func Start(ctx context.Context) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, removeDir, err := procs.MkdirTemp("mediastack-postgres-*")
	if err != nil {
		return nil, err
	}
	s, err := start(ctx, bin, cred, dir)
	if err != nil {
		_ = removeDir()
		return nil, err
	}
	s.removeDir = removeDir
	return s, nil
}

func start(ctx context.Context, bin string, cred *syscall.Credential, dir string) (*Server, error) {
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	password, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	pwFile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(pwFile, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	dataDir := filepath.Join(dir, "data")
	initCtx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	initdb := exec.CommandContext(initCtx, filepath.Join(bin, "initdb"),
		"-D", dataDir, "-U", superuser, "--pwfile", pwFile, "-E", "UTF8", "--locale", "C",
		"--auth-local", "trust", "--auth-host", "scram-sha-256", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	os.Remove(pwFile)
	return launchOnFreePort(ctx, bin, cred, dir, dataDir, password)
}

// launchOnFreePort launches the cluster in dataDir, trying again when another process took
// the free port in between.
func launchOnFreePort(ctx context.Context, bin string, cred *syscall.Credential, dir, dataDir, password string) (*Server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launch(ctx, bin, cred, dir, dataDir, password)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// StartStandby starts a hot standby of s, as an RDS read replica is one: a base backup of
// s's cluster (pg_basebackup, with the WAL it needs) in a guarded temp dir of its own,
// started as a standby streaming from s (the primary_conninfo that -R writes). It answers
// reads with what s committed, after a real replication lag, and refuses writes with SQLSTATE
// 25006 (read_only_sql_transaction). Its roles, databases and passwords are s's.
func (s *Server) StartStandby(ctx context.Context) (_ *Server, err error) {
	dir, removeDir, err := procs.MkdirTemp("mediastack-postgres-standby-*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = removeDir()
		}
	}()
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, err
		}
	}
	dataDir := filepath.Join(dir, "data")
	backupCtx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	backup := exec.CommandContext(backupCtx, filepath.Join(s.bin, "pg_basebackup"),
		"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", superuser, "-D", dataDir,
		"-X", "stream", "-R", "--checkpoint", "fast", "--no-sync")
	backup.Env = append(os.Environ(), "PGPASSWORD="+s.password)
	backup.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	backup.Dir = dir
	if out, err := backup.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_basebackup of the primary on port %d: %w\n%s", s.Port, err, out)
	}
	standby, err := launchOnFreePort(ctx, s.bin, s.cred, dir, dataDir, s.password)
	if err != nil {
		return nil, err
	}
	standby.removeDir = removeDir
	return standby, nil
}

// PauseReplay stops (or resumes) a standby's replay of what it receives, as a lagging replica
// would: reads keep seeing the state at the pause.
func (s *Server) PauseReplay(ctx context.Context, paused bool) error {
	conn, err := s.connect(ctx, superuser)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	fn := "pg_wal_replay_resume()"
	if paused {
		fn = "pg_wal_replay_pause()"
	}
	_, err = conn.Exec(ctx, "SELECT "+fn)
	return err
}

// InRecovery reports whether the server is a standby (pg_is_in_recovery).
func (s *Server) InRecovery(ctx context.Context) (bool, error) {
	conn, err := s.connect(ctx, superuser)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var standby bool
	err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby)
	return standby, err
}

func launch(ctx context.Context, bin string, cred *syscall.Credential, dir, dataDir, password string) (*Server, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Port: port, SocketDir: dir, password: password, bin: bin, cred: cred, dataDir: dataDir}
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// run starts the server process on s's port and data and waits until it accepts
// connections.
func (s *Server) run(ctx context.Context) error {
	path := filepath.Join(s.bin, "postgres")
	port, dir, dataDir, cred := s.Port, s.SocketDir, s.dataDir, s.cred
	args := []string{
		"-D", dataDir, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		// A throwaway cluster: durability costs time and buys nothing. Commits still wait for
		// their WAL to be written (not synced, with fsync off): a standby streams only written
		// WAL, and RDS commits synchronously, so replication lag is RDS's kind, not 200 ms of
		// WAL writer delay.
		"-c", "fsync=off", "-c", "full_page_writes=off",
	}
	if cred != nil {
		// setpriv execs in place, so the server stays in the group the guardian kills.
		args = append([]string{"--reuid", strconv.Itoa(int(cred.Uid)), "--regid", strconv.Itoa(int(cred.Gid)), "--clear-groups", "--", path}, args...)
		path = "setpriv"
	}
	p, err := procs.Start(procs.Spec{Name: "postgres", Path: path, Args: args, Dir: dir})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	waitCtx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := s.waitReady(waitCtx); err != nil {
		_ = p.Stop()
		return err
	}
	return nil
}

// Restart stops the server as a reboot does (a fast shutdown: sessions are ended, clients
// see their connections drop), keeps it down for downtime, and starts it again on the same
// port and data, so that clients reconnect to the same endpoint. A standby streaming from it
// reconnects by itself.
func (s *Server) Restart(ctx context.Context, downtime time.Duration) error {
	p := s.process()
	_ = syscall.Kill(p.PID(), syscall.SIGINT)
	select {
	case <-p.Done():
	case <-time.After(procs.StopTimeout):
	}
	if err := p.Stop(); err != nil {
		return fmt.Errorf("stop postgres for the restart: %w", err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(downtime):
	}
	return s.run(ctx)
}

func (s *Server) process() *procs.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// waitReady polls until the server accepts a connection, it exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	delay := 20 * time.Millisecond
	p := s.process()
	for {
		conn, err := s.connect(ctx, superuser)
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("postgres exited before accepting connections (%v); last output:\n%s", p.ExitErr(), p.Tail(20))
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections: %w (last error %v); last output:\n%s", ctx.Err(), err, p.Tail(20))
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

func (s *Server) connect(ctx context.Context, database string) (*pgx.Conn, error) {
	return pgx.Connect(ctx, Database{Host: s.Host, Port: s.Port, Name: database, User: superuser, Password: s.password}.URL())
}

// NewDatabase creates a role with a random password and a database it owns.
func (s *Server) NewDatabase(ctx context.Context) (Database, error) {
	id, err := randomHex(4)
	if err != nil {
		return Database{}, err
	}
	password, err := randomHex(16)
	if err != nil {
		return Database{}, err
	}
	return s.CreateDatabase(ctx, "db_"+id, "user_"+id, password)
}

// CreateDatabase creates the login role user with password and the database name it owns,
// as RDS does for an instance's DBName and master user. The names are taken as they are
// (quoted), so that a client connects with exactly what RDS reported.
func (s *Server) CreateDatabase(ctx context.Context, name, user, password string) (Database, error) {
	if name == "" || user == "" || password == "" {
		return Database{}, errors.New("create database: name, user and password are required")
	}
	if user == superuser {
		return Database{}, fmt.Errorf("create database: %q is the cluster's own superuser", user)
	}
	conn, err := s.connect(ctx, superuser)
	if err != nil {
		return Database{}, err
	}
	defer conn.Close(ctx)
	role := pgx.Identifier{user}.Sanitize()
	// CREATE ROLE takes no bind parameters: the password is a quoted literal.
	literal := "'" + strings.ReplaceAll(password, "'", "''") + "'"
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s", role, literal)); err != nil {
		return Database{}, fmt.Errorf("create role %s: %w", user, err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{name}.Sanitize(), role)); err != nil {
		return Database{}, fmt.Errorf("create database %s: %w", name, err)
	}
	return Database{Host: s.Host, Port: s.Port, Name: name, User: user, Password: password}, nil
}

// DatabaseT is NewDatabase for a test.
func (s *Server) DatabaseT(t testing.TB) Database {
	t.Helper()
	db, err := s.NewDatabase(context.Background())
	if err != nil {
		t.Fatalf("postgres database: %v", err)
	}
	return db
}

// PID is the server's process id.
func (s *Server) PID() int { return s.process().PID() }

// Dir is the temp dir that holds the cluster and its socket; removed by Stop.
func (s *Server) Dir() string { return s.SocketDir }

// Logs returns the server's last output lines, for failure reports.
func (s *Server) Logs(lines int) string { return s.process().Tail(lines) }

// Stop shuts the server down and removes the cluster. SIGINT first: PostgreSQL's fast
// shutdown ends open sessions, where the SIGTERM of procs would wait for them.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		p := s.process()
		_ = syscall.Kill(p.PID(), syscall.SIGINT)
		select {
		case <-p.Done():
		case <-time.After(procs.StopTimeout):
		}
		s.stopErr = errors.Join(p.Stop(), s.removeDir())
	})
	return s.stopErr
}

// StartT starts a server for one test, stopped at cleanup.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background())
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last output of postgres:\n%s", s.Logs(30))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	return s
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns the test binary's shared server, started on first use; tests isolate
// themselves with a database each. Stop it from TestMain with RunMain; if the binary is
// killed, the guardian stops it.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start(context.Background()) })
	if sharedErr != nil {
		t.Fatalf("shared postgres: %v", sharedErr)
	}
	return shared
}

// RunMain runs the tests and stops the shared server: os.Exit(postgres.RunMain(m)).
func RunMain(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop shared postgres: %v\n", err)
		}
	}
	return code
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

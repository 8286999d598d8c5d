package postgres

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { os.Exit(RunMain(m)) }

func TestDatabasesAreIsolatedAndPasswordProtected(t *testing.T) {
	ctx := context.Background()
	s := Shared(t)
	a, b := s.DatabaseT(t), s.DatabaseT(t)
	require.NotEqual(t, a.Name, b.Name)

	conn, err := pgx.Connect(ctx, a.URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var version, who string
	require.NoError(t, conn.QueryRow(ctx, "SHOW server_version").Scan(&version))
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&who))
	assert.Regexp(t, `^1[5-9]`, version, "PostgreSQL 15 or newer")
	assert.Equal(t, a.User, who)
	_, err = conn.Exec(ctx, "CREATE TABLE t (id int)")
	assert.NoError(t, err, "the role owns its database")

	wrong := a
	wrong.Password = "not-the-password"
	_, err = pgx.Connect(ctx, wrong.URL())
	assert.ErrorContains(t, err, "password authentication failed")

	other := b
	other.User, other.Password = a.User, a.Password
	c2, err := pgx.Connect(ctx, other.URL())
	require.NoError(t, err, "PUBLIC may connect, as on RDS")
	defer c2.Close(ctx)
	_, err = c2.Exec(ctx, "CREATE SCHEMA intruder")
	assert.Error(t, err, "but not create anything in another role's database")
}

func TestStopRemovesServerAndData(t *testing.T) {
	s, err := Start(context.Background())
	require.NoError(t, err)
	db, err := s.NewDatabase(context.Background())
	require.NoError(t, err)
	// An open session must not hold up the shutdown.
	conn, err := pgx.Connect(context.Background(), db.URL())
	require.NoError(t, err)
	defer conn.Close(context.Background())

	started := time.Now()
	require.NoError(t, s.Stop())
	assert.Less(t, time.Since(started), 4*time.Second, "fast shutdown, not a wait for sessions")
	assert.Error(t, syscall.Kill(s.PID(), 0), "the server is gone")
	assert.NoDirExists(t, s.Dir())
	assert.NoError(t, s.Stop(), "a second Stop does nothing")
}

// TestCreateDatabaseAsRDSDescribes: the names RDS reports are used as they are, and a
// password with quotes in it is a password, not SQL.
func TestCreateDatabaseAsRDSDescribes(t *testing.T) {
	ctx := context.Background()
	s := Shared(t)
	db, err := s.CreateDatabase(ctx, "media_"+t.Name()[4:10], "admin", `p'a"ss\word`)
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, db.URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var who, name string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&who, &name))
	assert.Equal(t, "admin", who)
	assert.Equal(t, db.Name, name)

	_, err = s.CreateDatabase(ctx, "other", "postgres", "x")
	assert.ErrorContains(t, err, "superuser")
}

func TestStandbyStreamsFromThePrimary(t *testing.T) {
	ctx := context.Background()
	primary := StartT(t)
	db := primary.DatabaseT(t)
	conn, err := pgx.Connect(ctx, db.URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE media (id int PRIMARY KEY)")
	require.NoError(t, err)

	standby, err := primary.StartStandby(ctx)
	require.NoError(t, err)
	defer func() { require.NoError(t, standby.Stop()) }()
	inRecovery, err := standby.InRecovery(ctx)
	require.NoError(t, err)
	assert.True(t, inRecovery, "a hot standby")

	replica := db
	replica.Host, replica.Port = standby.Host, standby.Port
	rconn, err := pgx.Connect(ctx, replica.URL())
	require.NoError(t, err, "the primary's roles and passwords hold on the standby")
	defer rconn.Close(ctx)

	_, err = conn.Exec(ctx, "INSERT INTO media VALUES (1)")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		return rconn.QueryRow(ctx, "SELECT count(*) FROM media").Scan(&n) == nil && n == 1
	}, 10*time.Second, 10*time.Millisecond, "a write on the primary streams to the standby")

	_, err = rconn.Exec(ctx, "INSERT INTO media VALUES (2)")
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "25006", pgErr.Code, "the standby refuses writes: read_only_sql_transaction")
}

// A restart drops the sessions, keeps the data and the port, and the store's kind of
// client sees an error it can tell from a wrong query meanwhile.
func TestRestartKeepsDataAndPort(t *testing.T) {
	ctx := context.Background()
	s := StartT(t)
	db := s.DatabaseT(t)
	conn, err := pgx.Connect(ctx, db.URL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE media (id int PRIMARY KEY); INSERT INTO media VALUES (1)")
	require.NoError(t, err)
	port, pid := s.Port, s.PID()

	restarted := make(chan error, 1)
	go func() { restarted <- s.Restart(ctx, time.Second) }()
	require.Eventually(t, func() bool {
		_, err := pgx.Connect(ctx, db.URL())
		return err != nil
	}, 10*time.Second, 20*time.Millisecond, "the server is down meanwhile")
	_, err = conn.Exec(ctx, "SELECT 1")
	assert.Error(t, err, "the old session was ended")
	require.NoError(t, <-restarted)

	assert.Equal(t, port, s.Port)
	assert.NotEqual(t, pid, s.PID(), "a new server process")
	again, err := pgx.Connect(ctx, db.URL())
	require.NoError(t, err)
	defer again.Close(ctx)
	var n int
	require.NoError(t, again.QueryRow(ctx, "SELECT count(*) FROM media").Scan(&n))
	assert.Equal(t, 1, n, "the data is kept")
}

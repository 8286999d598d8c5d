package postgres

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

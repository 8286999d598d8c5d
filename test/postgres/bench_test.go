package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// BenchmarkReplicationLag writes a row on the primary at a time and waits for it on a hot
// standby: the time from commit to visible on the standby, p50 and p99 (ms), under a stream
// of writes as fast as they come.
//
//	go test ./test/postgres -run '^$' -bench ReplicationLag -benchtime 500x
func BenchmarkReplicationLag(b *testing.B) {
	ctx := context.Background()
	primary := StartT(b)
	db := primary.DatabaseT(b)
	conn, err := pgx.Connect(ctx, db.URL())
	require.NoError(b, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE writes (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")
	require.NoError(b, err)
	standby, err := primary.StartStandby(ctx)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, standby.Stop()) })
	replica := db
	replica.Host, replica.Port = standby.Host, standby.Port
	rconn, err := pgx.Connect(ctx, replica.URL())
	require.NoError(b, err)
	defer rconn.Close(ctx)

	lags := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		_, err := conn.Exec(ctx, "INSERT INTO writes (id) VALUES ($1)", i)
		require.NoError(b, err)
		committed := time.Now()
		for {
			var seen bool
			require.NoError(b, rconn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM writes WHERE id = $1)", i).Scan(&seen))
			if seen {
				break
			}
		}
		lags = append(lags, time.Since(committed))
	}
	b.StopTimer()
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
}

package rds_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/rds"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// TestStart: an instance with a managed password is served by a PostgreSQL that takes
// exactly the secret's credentials, at the endpoint's name.
func TestStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	id := ns.ID + "-db"
	_, err = awsrds.NewFromConfig(cfg).CreateDBInstance(ctx, &awsrds.CreateDBInstanceInput{
		DBInstanceIdentifier:     &id,
		DBInstanceClass:          aws.String("db.t4g.micro"),
		Engine:                   aws.String("postgres"),
		DBName:                   aws.String("media"),
		MasterUsername:           aws.String("admin"),
		ManageMasterUserPassword: aws.Bool(true),
		AllocatedStorage:         aws.Int32(20),
	})
	require.NoError(t, err)

	resolver := names.New()
	dbs, err := rds.Start(ctx, []aws.Config{cfg}, rds.Options{Names: resolver, Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, dbs.Stop()) })
	require.Len(t, dbs.Instances(), 1)
	inst := dbs.Instances()[0]
	assert.Equal(t, id, inst.Identifier)
	assert.Equal(t, "media", inst.Database.Name)
	assert.Equal(t, "admin", inst.Database.User)
	assert.True(t, resolver.Mapped(inst.Host))

	// Connect by the endpoint's name, as the stack's programs do.
	named := inst.Database
	named.Host, named.Port = inst.Host, inst.Port
	pc, err := pgx.ParseConfig(named.URL())
	require.NoError(t, err)
	pc.DialFunc = resolver.DialContext
	pc.LookupFunc = resolver.LookupHost
	conn, err := pgx.ConnectConfig(ctx, pc)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var who, db string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&who, &db))
	assert.Equal(t, "admin", who)
	assert.Equal(t, "media", db)

	// A reboot ends the sessions; the endpoint serves again afterwards.
	require.NoError(t, dbs.Reboot(ctx, id, 200*time.Millisecond))
	assert.Error(t, conn.Ping(ctx), "the session ended with the reboot")
	again, err := pgx.ConnectConfig(ctx, pc)
	require.NoError(t, err, "the same endpoint after the reboot")
	require.NoError(t, again.Ping(ctx))
	again.Close(ctx)
	assert.Error(t, dbs.Reboot(ctx, "no-such-db", 0))

	local := inst.Database
	require.NoError(t, dbs.Stop())
	assert.False(t, resolver.Mapped(inst.Host), "the endpoint is unmapped")
	_, err = net.Dial("tcp", net.JoinHostPort(local.Host, itoa(local.Port)))
	assert.Error(t, err, "the server is gone")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCrossRegionReadReplica: a replica in another region, made from its source's ARN as
// replicate_source_db makes one, is a standby of the source's server at its own endpoint.
func TestCrossRegionReadReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	home, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	away := home.Copy()
	away.Region = "eu-west-1"
	id := ns.ID + "-db"
	primary, err := awsrds.NewFromConfig(home).CreateDBInstance(ctx, &awsrds.CreateDBInstanceInput{
		DBInstanceIdentifier: &id, DBInstanceClass: aws.String("db.t4g.micro"), Engine: aws.String("postgres"),
		DBName: aws.String("media"), MasterUsername: aws.String("admin"), ManageMasterUserPassword: aws.Bool(true), AllocatedStorage: aws.Int32(20),
	})
	require.NoError(t, err)
	_, err = awsrds.NewFromConfig(away).CreateDBInstanceReadReplica(ctx, &awsrds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String(ns.ID + "-db-replica"), SourceDBInstanceIdentifier: primary.DBInstance.DBInstanceArn,
	})
	require.NoError(t, err)

	resolver := names.New()
	dbs, err := rds.Start(ctx, []aws.Config{home, away}, rds.Options{Names: resolver, Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, dbs.Stop()) })
	require.Len(t, dbs.Instances(), 2)
	connect := func(inst rds.Instance) *pgx.Conn {
		named := inst.Database
		named.Host, named.Port = inst.Host, inst.Port
		pc, err := pgx.ParseConfig(named.URL())
		require.NoError(t, err)
		pc.DialFunc, pc.LookupFunc = resolver.DialContext, resolver.LookupHost
		conn, err := pgx.ConnectConfig(ctx, pc)
		require.NoError(t, err, inst.Identifier)
		t.Cleanup(func() { conn.Close(ctx) })
		return conn
	}
	byRegion := map[string]rds.Instance{}
	for _, inst := range dbs.Instances() {
		byRegion[inst.Region] = inst
	}
	replica := byRegion["eu-west-1"]
	assert.Equal(t, aws.ToString(primary.DBInstance.DBInstanceArn), replica.Source)
	writer, reader := connect(byRegion[home.Region]), connect(replica)

	_, err = writer.Exec(ctx, "CREATE TABLE media (id int PRIMARY KEY); INSERT INTO media VALUES (1)")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		return reader.QueryRow(ctx, "SELECT count(*) FROM media").Scan(&n) == nil && n == 1
	}, 10*time.Second, 20*time.Millisecond, "what the primary commits reaches the replica")
	_, err = reader.Exec(ctx, "INSERT INTO media VALUES (2)")
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "25006", pgErr.Code, "the replica is read-only")
}

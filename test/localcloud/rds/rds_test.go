package rds_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
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
	dbs, err := rds.Start(ctx, cfg, rds.Options{Names: resolver, Logf: t.Logf})
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

	local := inst.Database
	require.NoError(t, dbs.Stop())
	assert.False(t, resolver.Mapped(inst.Host), "the endpoint is unmapped")
	_, err = net.Dial("tcp", net.JoinHostPort(local.Host, itoa(local.Port)))
	assert.Error(t, err, "the server is gone")
}

func itoa(n int) string { return strconv.Itoa(n) }

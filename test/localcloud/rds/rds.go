// Package rds is the local cloud's data plane for RDS: moto records DB instances but has no
// database behind them. For each PostgreSQL instance the emulator reports, Start runs a real
// PostgreSQL server with the instance's database (DBName) and master user, whose password is
// read from the RDS-managed secret (MasterUserSecret) as the stack's programs read it, and
// maps the instance's endpoint to the server in the names resolver.
//
// One server per instance, as on RDS: instances do not share roles, connections or
// failures. The server listens on a free loopback port; clients reach it by the endpoint's
// name through the resolver (Go clients) or through an environment rewritten by
// names.Resolver.RewriteEnv (processes).
//
// A read replica (ReadReplicaSourceDBInstanceIdentifier, in its source's region or another,
// as replicate_source_db makes one) is a real hot standby of its source's server, streaming
// from it: it serves the source's database and roles, read-only, after a real replication
// lag, as an RDS read replica does.
package rds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
)

// Instance is a served DB instance.
type Instance struct {
	Identifier string
	Region     string
	ARN        string
	Source     string // the identifier or ARN of the instance it replicates; "" for a primary
	Host       string // the endpoint's address as RDS reports it
	Port       int    // the endpoint's port as RDS reports it
	// Database is the local server's database: host and port are where it really listens.
	Database postgres.Database
}

// Endpoint is the instance's host:port as clients name it.
func (i Instance) Endpoint() string { return net.JoinHostPort(i.Host, strconv.Itoa(i.Port)) }

// Options configure Start.
type Options struct {
	// Include selects instances by identifier; nil selects all of the account and region.
	Include func(identifier string) bool
	// Names receives an entry per instance endpoint; nil maps nothing.
	Names *names.Resolver
	// Logf receives one line per instance started; nil discards it.
	Logf func(format string, args ...any)
}

// Databases are the servers of one account and region; Stop ends them.
type Databases struct {
	mu        sync.Mutex
	instances []Instance
	servers   []*postgres.Server
	served    map[string]served // by identifier and by ARN, for the replicas of each
	names     *names.Resolver
	stopOnce  sync.Once
	stopErr   error
}

// served is one instance's server and the database it holds.
type served struct {
	server *postgres.Server
	db     postgres.Database
}

// masterSecret is the JSON RDS stores in a managed master user secret.
type masterSecret struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Start reads the DB instances of each cfg's account and region and serves every PostgreSQL
// one: the primaries, then the read replicas as standbys of their sources, wherever those
// are. An instance of another engine, a primary without a managed secret or a replica whose
// source is not served fails Start: the stack's programs could not connect to it either.
func Start(ctx context.Context, cfgs []aws.Config, opts Options) (_ *Databases, err error) {
	d := &Databases{names: opts.Names, served: map[string]served{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Stop())
		}
	}()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	type described struct {
		region  string
		db      rdstypes.DBInstance
		secrets *secretsmanager.Client
	}
	var primaries, replicas []described
	for _, cfg := range cfgs {
		secrets := secretsmanager.NewFromConfig(cfg)
		pages := awsrds.NewDescribeDBInstancesPaginator(awsrds.NewFromConfig(cfg), &awsrds.DescribeDBInstancesInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe DB instances in %s: %w", cfg.Region, err)
			}
			for _, db := range page.DBInstances {
				if opts.Include != nil && !opts.Include(aws.ToString(db.DBInstanceIdentifier)) {
					continue
				}
				x := described{cfg.Region, db, secrets}
				if aws.ToString(db.ReadReplicaSourceDBInstanceIdentifier) != "" {
					replicas = append(replicas, x)
				} else {
					primaries = append(primaries, x)
				}
			}
		}
	}
	for _, x := range append(primaries, replicas...) {
		id := aws.ToString(x.db.DBInstanceIdentifier)
		inst, err := d.serve(ctx, x.region, x.db, x.secrets)
		if err != nil {
			return nil, fmt.Errorf("DB instance %s: %w", id, err)
		}
		if inst.Source != "" {
			logf("rds: %s (%s), a read replica of %s, served by a postgres standby at %s:%d", id, inst.Endpoint(), inst.Source, inst.Database.Host, inst.Database.Port)
		} else {
			logf("rds: %s (%s) served by postgres at %s:%d", id, inst.Endpoint(), inst.Database.Host, inst.Database.Port)
		}
	}
	return d, nil
}

func (d *Databases) serve(ctx context.Context, region string, db rdstypes.DBInstance, secrets *secretsmanager.Client) (Instance, error) {
	engine := aws.ToString(db.Engine)
	if !strings.HasPrefix(engine, "postgres") {
		return Instance{}, fmt.Errorf("engine %q: the local cloud serves PostgreSQL only", engine)
	}
	if db.Endpoint == nil || aws.ToString(db.Endpoint.Address) == "" {
		return Instance{}, errors.New("no endpoint yet")
	}
	inst := Instance{
		Identifier: aws.ToString(db.DBInstanceIdentifier),
		Region:     region,
		ARN:        aws.ToString(db.DBInstanceArn),
		Source:     aws.ToString(db.ReadReplicaSourceDBInstanceIdentifier),
		Host:       aws.ToString(db.Endpoint.Address),
		Port:       int(aws.ToInt32(db.Endpoint.Port)),
	}
	if inst.Port == 0 {
		inst.Port = 5432
	}
	var server *postgres.Server
	var err error
	if inst.Source != "" {
		server, inst.Database, err = d.serveReplica(ctx, inst.Source)
	} else {
		server, inst.Database, err = d.servePrimary(ctx, db, secrets)
	}
	if err != nil {
		return Instance{}, err
	}
	d.mu.Lock()
	d.served[inst.Identifier] = served{server, inst.Database}
	if inst.ARN != "" {
		d.served[inst.ARN] = served{server, inst.Database}
	}
	d.mu.Unlock()
	if d.names != nil {
		local := inst.Database
		if err := d.names.Add(names.Entry{Host: inst.Host, Port: inst.Port, Addr: net.JoinHostPort(local.Host, strconv.Itoa(local.Port))}); err != nil {
			return Instance{}, err
		}
	}
	d.mu.Lock()
	d.instances = append(d.instances, inst)
	d.mu.Unlock()
	return inst, nil
}

// servePrimary starts a server with the instance's database and master user.
func (d *Databases) servePrimary(ctx context.Context, db rdstypes.DBInstance, secrets *secretsmanager.Client) (*postgres.Server, postgres.Database, error) {
	name := aws.ToString(db.DBName)
	if name == "" {
		name = "postgres" // RDS creates no database then; clients use the default one
	}
	if db.MasterUserSecret == nil || aws.ToString(db.MasterUserSecret.SecretArn) == "" {
		return nil, postgres.Database{}, errors.New("no RDS-managed master user secret (manage_master_user_password): no password to give the database")
	}
	arn := aws.ToString(db.MasterUserSecret.SecretArn)
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return nil, postgres.Database{}, fmt.Errorf("read master user secret: %w", err)
	}
	var secret masterSecret
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &secret); err != nil {
		return nil, postgres.Database{}, fmt.Errorf("master user secret %s is not RDS's JSON: %w", arn, err)
	}
	if secret.Username == "" {
		secret.Username = aws.ToString(db.MasterUsername)
	}
	if secret.Password == "" {
		return nil, postgres.Database{}, fmt.Errorf("master user secret %s holds no password", arn)
	}
	server, err := postgres.Start(ctx)
	if err != nil {
		return nil, postgres.Database{}, err
	}
	d.mu.Lock()
	d.servers = append(d.servers, server)
	d.mu.Unlock()
	local, err := server.CreateDatabase(ctx, name, secret.Username, secret.Password)
	if err != nil {
		return nil, postgres.Database{}, err
	}
	return server, local, nil
}

// serveReplica starts a standby of the source's server: the same database and roles.
func (d *Databases) serveReplica(ctx context.Context, source string) (*postgres.Server, postgres.Database, error) {
	d.mu.Lock()
	src, ok := d.served[source]
	d.mu.Unlock()
	if !ok {
		return nil, postgres.Database{}, fmt.Errorf("its source %s is not served (another account, or left out)", source)
	}
	standby, err := src.server.StartStandby(ctx)
	if err != nil {
		return nil, postgres.Database{}, err
	}
	d.mu.Lock()
	d.servers = append(d.servers, standby)
	d.mu.Unlock()
	db := src.db
	db.Host, db.Port = standby.Host, standby.Port
	return standby, db, nil
}

// Instances returns the served instances.
func (d *Databases) Instances() []Instance {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Instance(nil), d.instances...)
}

// PauseReplay stops (or resumes) the replay of the read replica identifier, as a lagging
// replica would: its readers keep seeing the state at the pause, whatever the primary takes.
func (d *Databases) PauseReplay(ctx context.Context, identifier string, paused bool) error {
	d.mu.Lock()
	s, ok := d.served[identifier]
	var replica bool
	for _, inst := range d.instances {
		replica = replica || (inst.Identifier == identifier && inst.Source != "")
	}
	d.mu.Unlock()
	if !ok || !replica {
		return fmt.Errorf("rds: %s is not a served read replica", identifier)
	}
	return s.server.PauseReplay(ctx, paused)
}

// Reboot restarts the server of instance identifier as RebootDBInstance does on a
// Single-AZ instance: the engine stops (sessions end, connections fail) and comes back on
// the same endpoint with the same data, here after downtime. A read replica of it
// reconnects and catches up by itself.
func (d *Databases) Reboot(ctx context.Context, identifier string, downtime time.Duration) error {
	d.mu.Lock()
	s, ok := d.served[identifier]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("rds: %s is not a served instance", identifier)
	}
	return s.server.Restart(ctx, downtime)
}

// Stop removes the endpoints from the resolver and stops every server, removing its data.
func (d *Databases) Stop() error {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		var errs []error
		for _, inst := range d.instances {
			if d.names != nil {
				d.names.Remove(inst.Host, inst.Port)
			}
		}
		for _, s := range d.servers {
			errs = append(errs, s.Stop())
		}
		d.stopErr = errors.Join(errs...)
	})
	return d.stopErr
}

// Package server stands in for nats-server's own when nats.go's tests are built here (see
// run.sh): the tests start and stop their server through it, and get ringtail.
package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The options the tests set. What ringtail cannot be asked for (a cluster, routes) makes
// Start fail the test that asked.
type Options struct {
	Host                string
	Port                int
	ServerName          string
	NoLog               bool
	NoSigs              bool
	JetStream           bool
	StoreDir            string
	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration
	Cluster             ClusterOpts
	Routes              []string
	Tags                []string
	NoHeaderSupport     bool
	Username            string
	Password            string
	Authorization       string
	Users               []*User
	TLSConfig           *tls.Config
	TLSTimeout          float64
}

// The nats-server version ringtail answers as (tests check features against it).
const VERSION = "2.9.10"

// TLS: ringtail has none, so a test that asks for it fails in Start.
type TLSConfigOpts struct {
	CertFile string
	KeyFile  string
	CaFile   string
}

func GenTLSConfig(opts *TLSConfigOpts) (*tls.Config, error) { return &tls.Config{}, nil }

type User struct {
	Username    string
	Password    string
	Permissions *Permissions
}

type Permissions struct {
	Publish   *SubjectPermission
	Subscribe *SubjectPermission
}

type SubjectPermission struct {
	Allow []string
	Deny  []string
}

type ClusterOpts struct {
	Name string
	Host string
	Port int
}

type JetStreamConfig struct {
	StoreDir string
}

// The JetStream API subject the tests format with a stream name.
const JSApiStreamLeaderStepDownT = "$JS.API.STREAM.LEADER.STEPDOWN.%s"

func RoutesFromStr(routes string) []string { return strings.Split(routes, ",") }

type Server struct {
	cmd      *exec.Cmd
	port     int
	storeDir string // empty: JetStream off
	ownConf  string // a config file Start wrote, removed at Shutdown
}

// Start runs RINGTAIL_BIN with the options (or configFile) and waits until it accepts
// connections. RT_SUITE_ARGS adds flags (-DV, --shards N).
func Start(opts *Options, configFile string) *Server {
	if len(opts.Routes) > 0 || opts.Cluster.Port != 0 || opts.TLSConfig != nil {
		// The test fails on connecting; the others go on.
		fmt.Fprintln(os.Stderr, "ringtail has no clustering and no TLS: this test needs one")
		return &Server{port: freePort()}
	}
	port := opts.Port
	if port <= 0 {
		port = freePort()
	}
	s := &Server{port: port}
	args := []string{"-a", "127.0.0.1", "-p", fmt.Sprint(port)}
	args = append(args, strings.Fields(os.Getenv("RT_SUITE_ARGS"))...)
	if opts.ServerName != "" {
		args = append(args, "-n", opts.ServerName)
	}
	if opts.Cluster.Name != "" {
		args = append(args, "--cluster_name", opts.Cluster.Name)
	}
	if opts.Username != "" {
		args = append(args, "--user", opts.Username, "--pass", opts.Password)
	}
	if opts.Authorization != "" {
		args = append(args, "--auth", opts.Authorization)
	}
	// What no flag says goes in a config file.
	var conf strings.Builder
	if opts.NoHeaderSupport {
		conf.WriteString("no_header_support: true\n")
	}
	if len(opts.Users) > 0 {
		conf.WriteString("authorization { users: [\n")
		for _, user := range opts.Users {
			fmt.Fprintf(&conf, "  { user: %q, password: %q", user.Username, user.Password)
			if p := user.Permissions; p != nil {
				var kinds []string
				for name, subjects := range map[string]*SubjectPermission{"publish": p.Publish, "subscribe": p.Subscribe} {
					if subjects != nil {
						kinds = append(kinds, fmt.Sprintf("%s: { allow: %s, deny: %s }", name, quoted(subjects.Allow), quoted(subjects.Deny)))
					}
				}
				fmt.Fprintf(&conf, ", permissions: { %s }", strings.Join(kinds, ", "))
			}
			conf.WriteString(" }\n")
		}
		conf.WriteString("] }\n")
	}
	if conf.Len() > 0 {
		file, err := os.CreateTemp("", "ringtail-suite-*.conf")
		if err != nil {
			panic(err)
		}
		file.WriteString(conf.String())
		file.Close()
		s.ownConf = file.Name()
		args = append(args, "-c", s.ownConf)
	}
	switch {
	case configFile != "":
		args = append(args, "-c", configFile)
		// Where JetStream keeps its files under a configuration without store_dir, as
		// nats-server (the tests remove it afterwards).
		s.storeDir = filepath.Join(os.TempDir(), "nats", "jetstream")
	case opts.JetStream:
		s.storeDir = opts.StoreDir
		if s.storeDir == "" {
			dir, err := os.MkdirTemp("", "ringtail-suite-")
			if err != nil {
				panic(err)
			}
			s.storeDir = dir
		}
		args = append(args, "-js", "-sd", s.storeDir)
	}
	s.cmd = exec.Command(os.Getenv("RINGTAIL_BIN"), args...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if conn, err := net.Dial("tcp", s.address()); err == nil {
			conn.Close()
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Shutdown()
	fmt.Fprintln(os.Stderr, "ringtail did not start: "+strings.Join(args, " "))
	return s
}

// A config file's list of subjects: ["a", "b"].
func quoted(subjects []string) string {
	out := make([]string, len(subjects))
	for i, subject := range subjects {
		out[i] = fmt.Sprintf("%q", subject)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func freePort() int {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

func (s *Server) address() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *Server) ClientURL() string { return "nats://" + s.address() }

func (s *Server) JetStreamConfig() *JetStreamConfig {
	if s.storeDir == "" {
		return nil
	}
	return &JetStreamConfig{StoreDir: s.storeDir}
}

// Shutdown stops the server as a user would (SIGTERM) and waits for it to exit.
func (s *Server) Shutdown() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s.cmd = nil
	if s.ownConf != "" {
		os.Remove(s.ownConf)
	}
}

func (s *Server) WaitForShutdown() {}

// ClusterAddr is where a server takes routes; ringtail takes none (a test that asks for a
// cluster has already failed in Start).
func (s *Server) ClusterAddr() *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// NumRoutes: ringtail has no routes.
func (s *Server) NumRoutes() int { return 0 }

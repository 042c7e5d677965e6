// Package test stands in for nats-server's test helpers (see server_shim.go).
package test

import "github.com/nats-io/nats-server/v2/server"

var DefaultTestOptions = server.Options{Host: "127.0.0.1", Port: 4222, NoLog: true, NoSigs: true}

func RunServer(opts *server.Options) *server.Server { return server.Start(opts, "") }

func RunServerWithConfig(configFile string) (*server.Server, *server.Options) {
	opts := &server.Options{Port: -1}
	return server.Start(opts, configFile), opts
}

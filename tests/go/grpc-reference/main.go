// The reference for track_metrics::tonic::GrpcMetricsLayer (tests/tests/grpc_reference.rs):
// examples/grpc-app's demo.Echo service (proto/demo.proto, same semantics as its
// src/lib.rs) served by grpc-go behind go-grpc-prometheus' server interceptors, the
// handling-time histogram on (default buckets) and every method pre-registered by
// grpc_prometheus.Register; /metrics served by client_golang's promhttp.
//
// No protoc: the service description is written by hand below, and the messages are
// read and written with protowire by a codec registered as "proto" (the codec gRPC
// picks for application/grpc and application/grpc+proto).
//
// Built in GOPATH mode against Debian's packages (no network):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o grpc-reference .
//
// Listens on -grpc-addr (default $BIND_ADDR, else 127.0.0.1:0) and serves /metrics on
// -metrics-addr (default $METRICS_ADDR, else 127.0.0.1:0); writes one line to stderr,
// "grpc-reference: listening on ADDR, metrics on http://ADDR/metrics", with the bound
// ports. SIGINT or SIGTERM stops it (exit 0).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	grpc_prometheus "github.com/grpc-ecosystem/go-grpc-prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// echoRequest is demo.EchoRequest: text = 1, code = 2, count = 3, delay_ms = 4.
type echoRequest struct {
	Text    string
	Code    int32
	Count   uint32
	DelayMs uint32
}

// echoReply is demo.EchoReply: text = 1.
type echoReply struct {
	Text string
}

// wireCodec reads requests and writes replies with protowire.
type wireCodec struct{}

func (wireCodec) Name() string { return "proto" }

func (wireCodec) Marshal(v interface{}) ([]byte, error) {
	reply, ok := v.(*echoReply)
	if !ok {
		return nil, fmt.Errorf("cannot marshal %T", v)
	}
	var out []byte
	if reply.Text != "" {
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendString(out, reply.Text)
	}
	return out, nil
}

func (wireCodec) Unmarshal(data []byte, v interface{}) error {
	req, ok := v.(*echoRequest)
	if !ok {
		return fmt.Errorf("cannot unmarshal into %T", v)
	}
	*req = echoRequest{}
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return protowire.ParseError(n)
		}
		data = data[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, n := protowire.ConsumeString(data)
			if n < 0 {
				return protowire.ParseError(n)
			}
			req.Text, data = s, data[n:]
		case num >= 2 && num <= 4 && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(data)
			if n < 0 {
				return protowire.ParseError(n)
			}
			data = data[n:]
			switch num {
			case 2:
				req.Code = int32(x)
			case 3:
				req.Count = uint32(x)
			case 4:
				req.DelayMs = uint32(x)
			}
		default: // an unknown field is skipped, as protobuf does
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return protowire.ParseError(n)
			}
			data = data[n:]
		}
	}
	return nil
}

// echoServer is the service's interface, what grpc.ServiceDesc's HandlerType names.
type echoServer interface {
	say(ctx context.Context, req *echoRequest) (*echoReply, error)
}

type echo struct{}

// answer is nil for code 0, else the status `code` names.
func answer(code int32) error {
	if code == 0 {
		return nil
	}
	return status.Error(codes.Code(code), "requested")
}

func pause(ms uint32) {
	if ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}

// Say: one reply with the request's text, or the status `code` asks for.
func (echo) say(_ context.Context, req *echoRequest) (*echoReply, error) {
	pause(req.DelayMs)
	if err := answer(req.Code); err != nil {
		return nil, err
	}
	return &echoReply{Text: req.Text}, nil
}

func sayHandler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	req := new(echoRequest)
	if err := dec(req); err != nil {
		return nil, err
	}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(echoServer).say(ctx, req.(*echoRequest))
	}
	if interceptor == nil {
		return handler(ctx, req)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/demo.Echo/Say"}
	return interceptor(ctx, req, info, handler)
}

// Repeat: `count` replies, then the status `code` asks for. The request is read through
// the stream the interceptor wraps, as generated code does.
func repeatHandler(_ interface{}, stream grpc.ServerStream) error {
	req := new(echoRequest)
	if err := stream.RecvMsg(req); err != nil {
		return err
	}
	for i := uint32(0); i < req.Count; i++ {
		pause(req.DelayMs)
		if err := stream.SendMsg(&echoReply{Text: req.Text}); err != nil {
			return err
		}
	}
	return answer(req.Code)
}

// Collect: one reply with every text joined by spaces; the first request with a code
// other than 0 ends the call with that status.
func collectHandler(_ interface{}, stream grpc.ServerStream) error {
	text := ""
	for first := true; ; first = false {
		req := new(echoRequest)
		err := stream.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			return stream.SendMsg(&echoReply{Text: text})
		}
		if err != nil {
			return err
		}
		pause(req.DelayMs)
		if err := answer(req.Code); err != nil {
			return err
		}
		if !first {
			text += " "
		}
		text += req.Text
	}
}

// Chat: every request echoed as it arrives; the first with a code other than 0 ends the
// call with that status.
func chatHandler(_ interface{}, stream grpc.ServerStream) error {
	for {
		req := new(echoRequest)
		err := stream.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		pause(req.DelayMs)
		if err := answer(req.Code); err != nil {
			return err
		}
		if err := stream.SendMsg(&echoReply{Text: req.Text}); err != nil {
			return err
		}
	}
}

// echoDesc is what protoc-gen-go-grpc would generate for demo.Echo.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "demo.Echo",
	HandlerType: (*echoServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Say", Handler: sayHandler}},
	Streams: []grpc.StreamDesc{
		{StreamName: "Repeat", Handler: repeatHandler, ServerStreams: true},
		{StreamName: "Collect", Handler: collectHandler, ClientStreams: true},
		{StreamName: "Chat", Handler: chatHandler, ServerStreams: true, ClientStreams: true},
	},
	Metadata: "demo.proto",
}

// fromEnv is the variable's value, or def when it is unset or empty.
func fromEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	grpcAddr := flag.String("grpc-addr", fromEnv("BIND_ADDR", "127.0.0.1:0"), "the gRPC listen address")
	metricsAddr := flag.String("metrics-addr", fromEnv("METRICS_ADDR", "127.0.0.1:0"), "the /metrics listen address")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("grpc-reference: ")

	encoding.RegisterCodec(wireCodec{})
	server := grpc.NewServer(
		grpc.UnaryInterceptor(grpc_prometheus.UnaryServerInterceptor),
		grpc.StreamInterceptor(grpc_prometheus.StreamServerInterceptor),
	)
	server.RegisterService(&echoDesc, echo{})
	// The histogram before Register, so that Register creates its series too.
	grpc_prometheus.EnableHandlingTimeHistogram()
	grpc_prometheus.Register(server)

	grpcListener, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		log.Fatalf("cannot listen on %s: %v", *grpcAddr, err)
	}
	metricsListener, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		log.Fatalf("cannot listen on %s: %v", *metricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	go func() {
		if err := http.Serve(metricsListener, mux); err != nil {
			log.Fatalf("serving /metrics: %v", err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		server.GracefulStop()
	}()
	log.Printf("listening on %s, metrics on http://%s/metrics", grpcListener.Addr(), metricsListener.Addr())
	if err := server.Serve(grpcListener); err != nil {
		log.Fatalf("serving gRPC: %v", err)
	}
	log.Print("stopped")
}

#pragma once
// A Backend over a server hybench launched: owns the LaunchedServer and the backend that talks to it
// (normally an openai: backend on the server's URL). Requests submitted after the server died fail at
// once with error kind "server_died" and the server's last log lines; destroying the backend stops the
// server (SIGTERM, then SIGKILL). For backend_factory's `launch:CMD` branch:
//
//   auto server = std::make_unique<load::LaunchedServer>(launch_options);
//   server->start();                                           // waits until healthy, throws otherwise
//   auto inner = make_backend("openai:" + launch_options.url, options);
//   return load::make_launched_backend(std::move(server), std::move(inner));
#include <memory>

#include "harness/backends/backend.h"
#include "harness/load/launched_server.h"

namespace hb::load {

std::unique_ptr<Backend> make_launched_backend(std::unique_ptr<LaunchedServer> server, std::unique_ptr<Backend> inner);

}  // namespace hb::load

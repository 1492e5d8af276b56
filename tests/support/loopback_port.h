// Ports on 127.0.0.1 for servers that tests start.
#ifndef ATS_TESTS_SUPPORT_LOOPBACK_PORT_H_
#define ATS_TESTS_SUPPORT_LOOPBACK_PORT_H_

namespace ats::testing {

// Returns a TCP port on 127.0.0.1 that was free a moment ago: the kernel picks
// it for a socket that is then closed, so another process could still take it
// before the caller binds it. Aborts the process if no socket can be bound.
int PickFreeLoopbackPort();

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_LOOPBACK_PORT_H_

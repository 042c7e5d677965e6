#pragma once

#include <cstddef>
#include <cstdint>

// Reads through a file mapping can fail: a media error (EIO) on the page, or the file cut short
// under the mapping. The kernel answers such a read with SIGBUS, which would kill the process
// (at every restart, if recovery reads the page). A guarded mapping instead reads that page as
// zeros, and the fault is counted, for the mapping's owner to turn into an error: zeros never
// pass a record's checksum, so nothing read from the page is ever served.
//
// Process-wide: any thread may add and remove mappings; the SIGBUS handler, installed once,
// looks the faulting address up among them. A SIGBUS elsewhere is left to the handler that was
// there before (by default, the process dies as ever).
namespace ringtail::io::mapping_guard {

// Installs the SIGBUS handler; later calls do nothing.
void install();
// Guards [start, start + bytes) (a read-only mapping). Returns its slot for faults() and
// remove(), or -1 if the table is full: the mapping then goes unguarded.
int add(const void* start, size_t bytes);
// Stops guarding the slot's mapping; call before unmapping it.
void remove(int slot);
// Pages of the slot's mapping that could not be read, and read as zeros since.
uint64_t faults(int slot);

}  // namespace ringtail::io::mapping_guard

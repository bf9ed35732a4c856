#pragma once
// The in-process wake-up of the change feed: drivers call
// SignalChangesCommitted after a commit that appended changes, and every
// ChangeFeed of this process (over any handle on any database) is woken.
// A feed re-reads its table, so a wake-up meant for another database costs
// one query.

#include <cstdint>
#include <functional>

namespace rapport::storage::internal {

void SignalChangesCommitted();
// Returns a handle for RemoveCommitListener. listener must be short and
// must not call back into storage.
int64_t AddCommitListener(std::function<void()> listener);
void RemoveCommitListener(int64_t handle);

}  // namespace rapport::storage::internal

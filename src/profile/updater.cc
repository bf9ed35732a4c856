#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "profile/profile.h"

namespace rapport::profile {

struct ProfileUpdater::State {
  ProfileStore* store;
  std::mutex mu;
  std::condition_variable wake, done;
  std::set<int64_t> pending;       // GUARDED_BY(mu)
  uint64_t queued_batches = 0;     // GUARDED_BY(mu)
  uint64_t finished_batches = 0;   // GUARDED_BY(mu)
  bool stopping = false;           // GUARDED_BY(mu)
  std::atomic<int64_t> applied{0}, failed{0};
  std::thread worker;

  void Run() {
    std::unique_lock lock(mu);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !pending.empty(); });
      if (pending.empty() && stopping) return;
      std::set<int64_t> ids;
      ids.swap(pending);
      uint64_t upto = queued_batches;
      lock.unlock();
      for (int64_t id : ids) {
        Status s = store->Apply(id);
        ++applied;
        if (!s.ok()) {
          ++failed;
          spdlog::warn("profile.apply_failed customer={} error={}", id, s.ToString());
        }
      }
      lock.lock();
      finished_batches = upto;
      done.notify_all();
    }
  }
};

ProfileUpdater::ProfileUpdater(ProfileStore* store) : state_(std::make_unique<State>()) {
  state_->store = store;
  state_->worker = std::thread([s = state_.get()] { s->Run(); });
}

ProfileUpdater::~ProfileUpdater() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  state_->worker.join();
}

void ProfileUpdater::Enqueue(const std::vector<int64_t>& customer_ids) {
  {
    std::lock_guard lock(state_->mu);
    bool any = false;
    for (int64_t id : customer_ids) {
      if (id > 0) {
        state_->pending.insert(id);
        any = true;
      }
    }
    if (!any) return;
    ++state_->queued_batches;
  }
  state_->wake.notify_one();
}

void ProfileUpdater::Flush() {
  std::unique_lock lock(state_->mu);
  uint64_t target = state_->queued_batches;
  if (state_->pending.empty() && state_->finished_batches >= target) return;
  state_->wake.notify_one();
  state_->done.wait(lock, [&] { return state_->finished_batches >= target && state_->pending.empty(); });
}

int64_t ProfileUpdater::applied() const { return state_->applied.load(); }
int64_t ProfileUpdater::failed() const { return state_->failed.load(); }

}  // namespace rapport::profile

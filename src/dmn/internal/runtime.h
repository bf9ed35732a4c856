#pragma once
// The evaluation environment of the running thread, so functions called
// from FEEL (BKMs, boxed function definitions), which only receive a
// feel::EvalContext, still add to the caller's explanation and respect the
// call-depth bound.

#include "dmn/internal/model.h"

namespace rapport::dmn::internal {

inline constexpr int kMaxCallDepth = 200;

EvalEnv* CurrentEvalEnv();

// Makes env the current one for the lifetime of the guard.
class ScopedEvalEnv {
 public:
  explicit ScopedEvalEnv(EvalEnv* env);
  ~ScopedEvalEnv();
  ScopedEvalEnv(const ScopedEvalEnv&) = delete;
  ScopedEvalEnv& operator=(const ScopedEvalEnv&) = delete;

 private:
  EvalEnv* previous_;
};

}  // namespace rapport::dmn::internal

#pragma once
// The thread count of the one thread pool (OpenMP, shared with oneDNN). The default comes from
// TG_NUM_THREADS when set, else OpenMP's default (OMP_NUM_THREADS or the number of CPUs).
namespace tensorgraph {

int num_threads();
// Sets the thread count for subsequent runs (n >= 1).
void set_num_threads(int n);

}  // namespace tensorgraph

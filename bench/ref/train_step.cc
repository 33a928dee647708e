// The same ResNet-20 training step as bench/train-step.ts, written directly
// against LibTorch's C++ API: the yardstick for the binding's overhead.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace nn = torch::nn;

struct BlockImpl : nn::Module {
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, down{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, downBn{nullptr};
  BlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(out));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2 = register_module("bn2", nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      down = register_module("down", nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      downBn = register_module("downBn", nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    auto a = bn1(conv1(x)).relu_();
    auto b = bn2(conv2(a));
    auto s = down ? downBn(down(x)) : x;
    return b.add_(s).relu_();
  }
};
TORCH_MODULE(Block);

struct ResNet20Impl : nn::Module {
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  nn::Sequential stages;
  nn::Linear fc{nullptr};
  ResNet20Impl() {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(16));
    int64_t in = 16;
    const int64_t widths[3] = {16, 32, 64};
    for (int s = 0; s < 3; s++) {
      for (int i = 0; i < 3; i++) {
        stages->push_back(Block(in, widths[s], (i == 0 && s > 0) ? 2 : 1));
        in = widths[s];
      }
    }
    register_module("stages", stages);
    fc = register_module("fc", nn::Linear(64, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    auto out = bn1(conv1(x)).relu_();
    out = stages->forward(out);
    return fc(torch::adaptive_avg_pool2d(out, {1, 1}).flatten(1));
  }
};
TORCH_MODULE(ResNet20);

int main(int argc, char** argv) {
  int batch = argc > 1 ? std::atoi(argv[1]) : 128;
  int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  int warmup = argc > 3 ? std::atoi(argv[3]) : 3;
  int steps = argc > 4 ? std::atoi(argv[4]) : 20;
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  ResNet20 model;
  model->train();
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  auto x = torch::randn({batch, 3, 32, 32});
  auto y = torch::randint(0, 10, {batch}, torch::kInt64);
  std::vector<double> ms;
  for (int i = 0; i < warmup + steps; i++) {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& p : model->parameters()) p.mutable_grad().reset();
    auto loss = torch::cross_entropy_loss(model->forward(x), y);
    loss.backward();
    opt.step();
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= warmup) ms.push_back(elapsed);
  }
  for (double v : ms) std::printf("%.4f\n", v);
  return 0;
}

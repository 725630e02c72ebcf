// Netlist structure: topological order, cycles, depth, structural hashing and sweeping, and
// bit-parallel simulation against the one-gate-at-a-time reference.
#include "appmul/netlist/netlist.h"

#include <gtest/gtest.h>

#include <random>

#include "appmul/netlist/simulate.h"
#include "util/error.h"

namespace fames {
namespace {

// A random circuit over the inputs whose outputs are random nodes (some constants, some inputs).
Netlist random_netlist(Signature sig, int gates, unsigned seed) {
  std::mt19937 rng(seed);
  Netlist net(sig, "random");
  const GateType types[] = {GateType::kBuf,    GateType::kNot,   GateType::kAnd, GateType::kOr,
                            GateType::kXor,    GateType::kNand,  GateType::kNor, GateType::kXnor,
                            GateType::kConst0, GateType::kConst1};
  for (int i = 0; i < gates; ++i) {
    const GateType t = types[rng() % 10];
    const auto n = static_cast<int32_t>(net.nodes().size());
    if (t == GateType::kConst0)
      net.const0();
    else if (t == GateType::kConst1)
      net.const1();
    else
      net.add_gate(t, rng() % n, rng() % n);
  }
  std::vector<int32_t> outs;
  for (int j = 0; j < sig.ba + sig.bw; ++j) outs.push_back(rng() % net.nodes().size());
  net.set_outputs(outs);
  return net;
}

TEST(Netlist, TopologicalOrderPutsFaninsFirst) {
  Netlist net = random_netlist(Signature{3, 4, true, false}, 60, 1);
  const auto order = net.topological_order();
  ASSERT_EQ(order.size(), net.nodes().size());
  std::vector<int> position(order.size());
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = static_cast<int>(i);
  for (size_t id = 0; id < net.nodes().size(); ++id) {
    const Gate& g = net.nodes()[id];
    if (g.in0 >= 0) {
      EXPECT_LT(position[g.in0], position[id]);
    }
    if (g.in1 >= 0) {
      EXPECT_LT(position[g.in1], position[id]);
    }
  }
}

TEST(Netlist, CycleIsRejected) {
  Netlist net(Signature{2, 2, false, false}, "loop");
  const int32_t g1 = net.add_gate(GateType::kAnd, net.inputs_a()[0], net.inputs_b()[0]);
  const int32_t g2 = net.add_gate(GateType::kOr, g1, net.inputs_a()[1]);
  net.set_fanin(g1, 1, g2);  // g1 = AND(a0, g2), g2 = OR(g1, a1)
  net.set_outputs({g2, g2, g2, g2});
  try {
    net.topological_order();
    FAIL() << "expected a cycle error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos) << e.what();
  }
}

TEST(Netlist, EditsAreChecked) {
  Netlist net(Signature{2, 2, false, false}, "edit");
  const int32_t a0 = net.inputs_a()[0], a1 = net.inputs_a()[1], b0 = net.inputs_b()[0];
  const int32_t g1 = net.add_gate(GateType::kAnd, a0, b0);
  const int32_t g2 = net.add_gate(GateType::kNot, g1);
  const int32_t g3 = net.add_gate(GateType::kOr, g1, g2);
  net.set_outputs({g3, g1, g2, a0});
  EXPECT_THROW(net.set_fanin(g2, 1, a0), Error);   // NOT has one fanin
  EXPECT_THROW(net.set_fanin(g2, 0, 99), Error);   // no node 99
  EXPECT_THROW(net.set_fanin(a0, 0, b0), Error);   // inputs have no fanin
  EXPECT_THROW(net.replace_uses(g1, g2), Error);   // g2 reads g1: a cycle
  EXPECT_THROW(net.replace_uses(g1, g1), Error);
  EXPECT_THROW(net.replace_uses(-1, a1), Error);
  net.replace_uses(g1, a1);  // every reader of g1 (g2, g3, output 1) now reads a1
  EXPECT_EQ(net.nodes()[g2].in0, a1);
  EXPECT_EQ(net.nodes()[g3].in0, a1);
  EXPECT_EQ(net.nodes()[g3].in1, g2);
  EXPECT_EQ(net.outputs(), (std::vector<int32_t>{g3, a1, g2, a0}));
  for (uint32_t w = 0; w < 4; ++w)
    for (uint32_t a = 0; a < 4; ++a)  // P1 = a1, P0 = a1 | !a1 = 1, P2 = !a1, P3 = a0
      EXPECT_EQ(evaluate_ref(net, w, a), int32_t(1 | ((a >> 1) & 1) << 1 | (1 - ((a >> 1) & 1)) << 2 | (a & 1) << 3));
}

TEST(Netlist, DepthCountsLogicLevels) {
  Netlist net(Signature{2, 2, false, false}, "chain");
  const int32_t a0 = net.inputs_a()[0], b0 = net.inputs_b()[0];
  const int32_t g1 = net.add_gate(GateType::kAnd, a0, b0);
  const int32_t g2 = net.add_gate(GateType::kNot, g1);
  const int32_t g3 = net.add_gate(GateType::kXor, g2, a0);
  net.set_outputs({g3, g1, a0, net.const0()});
  EXPECT_EQ(net.depth(), 3);
  EXPECT_EQ(net.gate_count(), 3);
}

TEST(Netlist, StrashFoldsConstantsDuplicatesAndDoubleInversions) {
  Netlist net(Signature{2, 2, false, false}, "fold");
  const int32_t a0 = net.inputs_a()[0], b0 = net.inputs_b()[0];
  const int32_t x1 = net.add_gate(GateType::kAnd, a0, b0);
  const int32_t x2 = net.add_gate(GateType::kAnd, b0, a0);  // duplicate, swapped
  const int32_t nn = net.add_gate(GateType::kNot, net.add_gate(GateType::kNot, x1));  // == x1
  const int32_t c = net.add_gate(GateType::kAnd, x2, net.const1());                   // == x2
  const int32_t z = net.add_gate(GateType::kXor, nn, c);                              // == 0
  const int32_t o = net.add_gate(GateType::kOr, z, x1);                               // == x1
  net.set_outputs({o, z, nn, net.add_gate(GateType::kNand, a0, net.const0())});
  const Netlist s = net.strash();
  EXPECT_EQ(s.gate_count(), 1);  // a single AND remains
  EXPECT_EQ(simulate_table(s), simulate_table(net));
  EXPECT_EQ(s.nodes()[s.outputs()[1]].type, GateType::kConst0);
  EXPECT_EQ(s.nodes()[s.outputs()[3]].type, GateType::kConst1);
}

TEST(Netlist, StrashAndSweepKeepTheFunction) {
  for (int seed = 0; seed < 20; ++seed) {
    const Signature sig{2 + seed % 5, 2 + seed % 4, seed % 2 == 0, seed % 3 == 0};
    const Netlist net = random_netlist(sig, 200, seed);
    const ProductTable t = simulate_table(net);
    const Netlist swept = net.sweep();
    const Netlist hashed = net.strash();
    EXPECT_EQ(simulate_table(swept), t) << seed;
    EXPECT_EQ(simulate_table(hashed), t) << seed;
    EXPECT_LE(swept.gate_count(), net.gate_count());
    EXPECT_LE(hashed.gate_count(), swept.gate_count());
    // Sweep leaves only nodes the outputs reach, plus the inputs.
    const int inputs = sig.ba + sig.bw;
    int unreachable_inputs = inputs;
    for (int32_t id : swept.topological_order(true)) unreachable_inputs -= id < inputs ? 1 : 0;
    EXPECT_EQ(swept.topological_order(true).size() + unreachable_inputs, swept.nodes().size())
        << seed;
  }
}

TEST(Simulate, BitParallelAgreesWithReference) {
  for (int seed = 0; seed < 10; ++seed) {
    const Signature sig{1 + seed % 8, 1 + (seed * 3) % 8, seed % 2 == 1, seed % 4 == 0};
    const Netlist net = random_netlist(sig, 150, 100 + seed);
    const ProductTable t = simulate_table(net);
    for (uint32_t w = 0; w < sig.weight_levels(); ++w)
      for (uint32_t a = 0; a < sig.act_levels(); ++a)
        ASSERT_EQ(t.raw(w, a), evaluate_ref(net, w, a)) << seed;
  }
}

TEST(Simulate, PairsMatchExhaustiveOnTailSizes) {
  const Signature sig{3, 5, true, false};
  const Netlist net = random_netlist(sig, 100, 7);
  const NodeValues all = simulate_exhaustive(net);
  for (int count : {1, 3, 63, 64, 65, 130}) {
    std::vector<uint32_t> w, a;
    for (int i = 0; i < count; ++i) w.push_back((i * 5) % 8), a.push_back((i * 11) % 32);
    const NodeValues v = simulate_pairs(net, w, a);
    ASSERT_EQ(v.words, (count + 63) / 64);
    for (size_t id = 0; id < net.nodes().size(); ++id)
      for (int i = 0; i < count; ++i) {
        const int64_t p = (int64_t{w[i]} << 5) | a[i];
        const bool expect = (all.node(id)[p >> 6] >> (p & 63)) & 1;
        ASSERT_EQ(((v.node(id)[i >> 6] >> (i & 63)) & 1) != 0, expect) << count << " node " << id;
      }
    // Bits past the last pattern are zero.
    if (count % 64) {
      for (size_t id = 0; id < net.nodes().size(); ++id)
        EXPECT_EQ(v.node(id)[v.words - 1] >> (count % 64), 0u);
    }
  }
}

}  // namespace
}  // namespace fames

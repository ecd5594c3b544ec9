#pragma once
// A chain (or tree) of element-wise operations evaluated in one pass over memory: the body of a
// FusedElementwise node, produced by the fusion pass. Registers 0..num_inputs-1 hold the node's
// inputs (each broadcast to the output shape); every instruction writes one new register; the
// last instruction's register is the result.
#include <cstdint>
#include <string>
#include <vector>

namespace tensorgraph {

enum class EwOp : std::uint8_t {
  Const,  // r = imm
  Add,
  Sub,
  Mul,
  Div,
  Pow,  // r = a op b
  Neg,
  Relu,
  Gelu,
  Tanh,
  Sigmoid,
  Exp,
  Log,
  Sqrt,
  Rsqrt,         // r = f(a)
  ReluBackward,  // r = b > 0 ? a : 0 (a: gradient, b: relu output)
  GeluBackward,  // r = a * gelu'(b) (a: gradient, b: gelu input)
};

// Lower-case name ("add", "gelu"...).
const char* ew_op_name(EwOp op);
// Number of register operands the instruction reads (0, 1 or 2).
int ew_op_arity(EwOp op);

// The fusion pass keeps programs within this many registers (inputs + instructions), so that
// kernels can hold per-register state in fixed arrays.
inline constexpr int kMaxFusedRegisters = 64;

struct EwInstr {
  EwOp op = EwOp::Const;
  std::int16_t a = -1;  // first operand register
  std::int16_t b = -1;  // second operand register (binary ops)
  float imm = 0;        // Const value
};

struct ElementwiseProgram {
  int num_inputs = 0;
  std::vector<EwInstr> code;  // register num_inputs + i is written by code[i]

  int num_registers() const { return num_inputs + static_cast<int>(code.size()); }
  int result_register() const { return num_registers() - 1; }
  // "gelu(add(in0, in1))"
  std::string to_string() const;
};

}  // namespace tensorgraph

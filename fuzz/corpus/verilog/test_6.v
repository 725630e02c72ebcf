`timescale 1ns/1ps
module expr (
  input wire [0:2] A,   // ascending range: A[2] is the LSB
  input [3:1] B,
  output [5:0] O
);
  (* keep *) wire [3:0] t;
  wire u = ^B;            // reduction xor
  assign t[3:2] = ~A[0:1];
  assign {t[1], t[0]} = 2'b10;
  assign O = B[2] ? {t, u, !A} : {2'd0, A[1 +: 2], 2'b0} | {6{B[1] && A[2]}};
endmodule
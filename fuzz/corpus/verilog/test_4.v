module cells(A, B, O);
  input [1:0] A; input [1:0] B; output [3:0] O;
  wire x, y, z, s, c, hi;
  AOI21_X1 u0 (.A(A[0]), .B1(A[1]), .B2(B[0]), .ZN(x));           // NanGate: !(A | B1&B2)
  OAI21X1 u1 (A[0], A[1], B[0], y);                                // OSU positional: !((A|B)&C)
  sky130_fd_sc_hd__mux2_1 u2 (.A0(x), .A1(y), .S(B[1]), .X(z));   // S ? A1 : A0
  sky130_fd_sc_hd__fa_1 u3 (.A(z), .B(A[1]), .CIN(B[0]), .COUT(c), .SUM(s));
  NAND2xp33_ASAP7_75t_R u4 (.A(s), .B(c), .Y(O[0]));
  TIEHI t1 (.Z(hi));
  ND2D1 u5 (.A1(hi), .A2(z), .ZN(O[1]));
  XNOR2X1 u6 (.A(c), .B(x), .Y(O[2]));
  INVX1 u7 (.A(y), .Y(O[3]));
endmodule
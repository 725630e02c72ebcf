module m(A, B, clk, O);
  input [1:0] A, B; input clk; output [3:0] O;
  assign O = {A, B};
endmodule
module m(X, Y, P);
  input [1:0] X; input [2:0] Y; output [4:0] P;
  assign P = {X, Y};
endmodule
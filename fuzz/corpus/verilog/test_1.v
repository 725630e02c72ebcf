module m(input signed [2:0] A, input [1:0] B, output [4:0] O);
  assign O = {A[2], A[2], A} & {5{B[0]}};
endmodule
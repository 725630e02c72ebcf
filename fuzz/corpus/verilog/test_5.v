module mul2_cells(A, B, O);
  input [1:0] A;
  input [1:0] B;
  output [3:0] O;
  wire [31:0] N;
  assign N[0] = A[0];
  assign N[2] = A[1];
  assign N[4] = B[0];
  assign N[6] = B[1];
  AND2X1 n8(.A(N[0]), .B(N[4]), .Y(N[8]));
  AND2X1 n10(.A(N[2]), .B(N[4]), .Y(N[10]));
  AND2X1 n12(.A(N[0]), .B(N[6]), .Y(N[12]));
  AND2X1 n14(N[14], N[2], N[6]);  // positional, in the order the module declares
  HAX1 n16(.A(N[10]), .B(N[12]), .YS(N[16]), .YC(N[17]));
  HAX1 n18(.A(N[14]), .B(N[17]), .YS(N[18]), .YC(N[19]));
  assign O[0] = N[8];
  assign O[1] = N[16];
  assign O[2] = N[18];
  assign O[3] = N[19];
endmodule

/* mod */
module HAX1( input A, input B, output YS, output YC );
    assign YS = A ^ B;
    assign YC = A & B;
endmodule
module AND2X1(Y, A, B);  // output first: positional instances must follow this order
  input A, B; output Y;
  assign Y = ~(~A | ~B);
endmodule

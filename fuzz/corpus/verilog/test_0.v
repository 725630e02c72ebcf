/* header comment */
module mul2u_test (
    A,
    B,
    O
);
input [1:0] A;
input [1:0] B;
output [3:0] O;
wire sig_0,sig_1,sig_2,sig_3,sig_4; // pp and carry
assign sig_0 = A[1] & B[0];
assign sig_1 = A[0] & B[1];
assign sig_2 = sig_0 & sig_1;
assign sig_3 = A[1] & B[1];
assign sig_4 = sig_3 & sig_2;
assign O[3] = sig_4;
assign O[2] = sig_3 ^ sig_2;
assign O[1] = sig_0 ^ sig_1;
assign O[0] = A[0] & B[0];
endmodule

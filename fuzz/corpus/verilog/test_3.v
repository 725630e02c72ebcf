module prims(a, b, o);
  input [1:0] a, b;
  output [3:0] o;
  wire t;
  and g0 (o[0], a[0], a[1], b[0]);
  nor (o[1], a[0], a[1], b[0], b[1]);
  xnor g2 (o[2], a[0], a[1], b[1]);
  not n1 (t, o[3]), n2 (o[3], b[1]);  // two instances in one statement
endmodule